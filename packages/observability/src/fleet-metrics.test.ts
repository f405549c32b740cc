import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerFleetMetrics } from './fleet-metrics.js';
import { certificateStates, EXPIRY_BOUNDS_SECONDS, monotonic, pickHostnames, readFleet, type FleetSources } from './fleet-reading.js';

const DAY = 86_400_000;
const NOW = 1_800_000_000_000;

/** An inventory of name -> notAfter, `renewals` holding the names not retired, and a queue, all in memory. */
function fakeSources(overrides: { failing?: string[]; fail?: boolean; calls?: { count: number } } = {}): FleetSources {
  const inventory = new Map<string, number>([
    ['expired.example', NOW - DAY],
    ['soon.example', NOW + 2 * DAY],
    ['retired.example', NOW + 3 * DAY],
    ['later.example', NOW + 60 * DAY],
    ['failing.example', NOW + 20 * DAY],
  ]);
  const renewals = new Set(['expired.example', 'soon.example', 'later.example', 'failing.example']);
  const states: Record<string, string> = { 'soon.example': 'issuing', 'failing.example': 'cooling' };
  const sorted = () => [...inventory.entries()].sort((a, b) => a[1] - b[1]);
  return {
    reads: {
      async certificateCounts(now) {
        if (overrides.calls) overrides.calls.count++;
        if (overrides.fail) throw new Error('Connection is closed.');
        return {
          inventory: inventory.size,
          expired: sorted().filter(([, at]) => at <= now).length,
          scheduled: renewals.size,
          due: 1,
        };
      },
      async expiringWithin(now, bounds) {
        return bounds.map((bound) => sorted().filter(([, at]) => at <= now + bound * 1000).length);
      },
      async soonestExpiring(limit) {
        return sorted()
          .filter(([name]) => renewals.has(name))
          .slice(0, limit)
          .map(([name, notAfter]) => ({ name, notAfter }));
      },
      async notAfterOf(names) {
        return names.map((name) => inventory.get(name) ?? null);
      },
      async statesOf(names) {
        return names.map((name) => states[name] ?? null);
      },
      async bucketTokens(key) {
        return key === 'orders-key' ? 12 : 300;
      },
      async caPaused(ca) {
        return ca === 'backup';
      },
      async hostnameCounts() {
        return { total: 6, pending: 1, active: 3, failed: 1, retired: 1 };
      },
    },
    queue: {
      name: 'issue',
      async getJobCounts(...wanted) {
        return Object.fromEntries(wanted.map((state) => [state, state === 'failed' ? 3 : state === 'active' ? 2 : 0]));
      },
      async getCountsPerPriority(priorities) {
        return Object.fromEntries(priorities.map((p) => [String(p), p === 10 ? 7 : p === 1 ? 1 : 0]));
      },
      async getFailed(start, end) {
        return (overrides.failing ?? ['failing.example', 'never-issued.example']).slice(start, end + 1).map((name) => ({ data: { name } }));
      },
    },
    priorities: { visitor: 1, provision: 5, renewal: 10 },
    budgets: [
      { ca: 'pebble', bucket: 'orders', key: 'orders-key', spec: { capacity: 300, refillIntervalMs: 36_000 } },
      { ca: 'pebble', bucket: 'renewals', key: 'renewals-key', spec: { capacity: 300, refillIntervalMs: 36_000 } },
    ],
    cas: ['pebble', 'backup'],
    perHostnameMax: 3,
  };
}

describe('certificate states from index counts', () => {
  it('counts the retired as inventory not scheduled, and active as the unexpired rest', () => {
    expect(certificateStates({ inventory: 10, expired: 2, scheduled: 7, due: 1 }, 4)).toEqual({
      active: 5,
      expired: 2,
      retired: 3,
      renewal_due: 1,
      renewing: 4,
    });
  });

  it('never counts below zero when the indexes disagree for a moment', () => {
    const states = certificateStates({ inventory: 1, expired: 1, scheduled: 5, due: 0 }, 0);
    expect(Object.values(states).every((n) => n >= 0)).toBe(true);
  });
});

describe('histogram buckets', () => {
  it('are made non-decreasing and capped at the total', () => {
    expect(monotonic([1, 0, 3, 9], 5)).toEqual([1, 1, 3, 5]);
  });
});

describe('named hostnames', () => {
  it('takes failing names first, then the soonest, each once, at most max', () => {
    const a = { name: 'a' };
    const b = { name: 'b' };
    const c = { name: 'c' };
    expect(pickHostnames([b], [a, b, c], 2)).toEqual([b, a]);
    expect(pickHostnames([], [a, b, c], 0)).toEqual([]);
  });
});

describe('readFleet', () => {
  it('reads states, expiry buckets, named hostnames, queue depths, budgets and pauses', async () => {
    const fleet = await readFleet(fakeSources(), NOW);
    expect(fleet.certificates).toEqual({ active: 3, expired: 1, retired: 1, renewal_due: 1, renewing: 7 });
    // Buckets: expired (le 0): 1; a day: 1; 3 days: 3 (soon, retired); 7: 3; 14: 3; 21: 4; 30, 45: 4; 60+: 5.
    expect(fleet.expiry.cumulative).toEqual([1, 1, 3, 3, 3, 4, 4, 4, 5, 5, 5, 5]);
    expect(fleet.expiry.total).toBe(5);
    expect(fleet.expiry.boundsSeconds).toBe(EXPIRY_BOUNDS_SECONDS);
    // The failing name with a certificate first; one never issued has no expiry to show; retired ones are left out.
    expect(fleet.hostnames).toEqual([
      { name: 'failing.example', notAfterSeconds: (NOW + 20 * DAY) / 1000, renewalInFlight: false },
      { name: 'expired.example', notAfterSeconds: (NOW - DAY) / 1000, renewalInFlight: false },
      { name: 'soon.example', notAfterSeconds: (NOW + 2 * DAY) / 1000, renewalInFlight: true },
    ]);
    expect(fleet.queue).toContainEqual({ queue: 'issue', state: 'prioritized', priority: 'renewal', count: 7 });
    expect(fleet.queue).toContainEqual({ queue: 'issue', state: 'active', priority: 'any', count: 2 });
    expect(fleet.budgets).toContainEqual({ ca: 'pebble', bucket: 'orders', tokens: 12, capacity: 300 });
    expect(fleet.caPaused).toEqual([
      { ca: 'pebble', paused: false },
      { ca: 'backup', paused: true },
    ]);
  });

  it('names no hostname when METRICS_PER_HOSTNAME_MAX is 0', async () => {
    expect((await readFleet({ ...fakeSources(), perHostnameMax: 0 }, NOW)).hostnames).toEqual([]);
  });

  it('ignores failed jobs whose data carries no name (a hostile or broken job)', async () => {
    const sources = fakeSources();
    sources.queue.getFailed = async () => [undefined, { data: {} }, { data: { name: 42 } }];
    const fleet = await readFleet(sources, NOW);
    expect(fleet.hostnames.map((h) => h.name)).toEqual(['expired.example', 'soon.example', 'failing.example']);
  });
});

describe('registerFleetMetrics', () => {
  it('exposes the gauges and the expiry histogram in Prometheus text', async () => {
    const registry = new Registry();
    registerFleetMetrics(registry, { sources: fakeSources(), clock: () => NOW });
    const text = await registry.metrics();
    expect(text).toContain('certfleet_certificates{state="active"} 3');
    expect(text).toContain('# TYPE certfleet_certificate_expiry_seconds histogram');
    expect(text).toContain('certfleet_certificate_expiry_seconds_bucket{le="0"} 1');
    expect(text).toContain('certfleet_certificate_expiry_seconds_bucket{le="604800"} 3');
    expect(text).toContain('certfleet_certificate_expiry_seconds_bucket{le="+Inf"} 5');
    expect(text).toContain('certfleet_certificate_expiry_seconds_count 5');
    expect(text).toContain(`certfleet_certificate_expiration_timestamp_seconds{hostname="soon.example"} ${(NOW + 2 * DAY) / 1000}`);
    expect(text).toContain('certfleet_certificate_renewal_in_flight{hostname="soon.example"} 1');
    expect(text).toContain('certfleet_queue_jobs{queue="issue",state="prioritized",priority="visitor"} 1');
    expect(text).toContain('certfleet_budget_tokens{ca="pebble",bucket="orders"} 12');
    expect(text).toContain('certfleet_budget_capacity{ca="pebble",bucket="orders"} 300');
    expect(text).toContain('certfleet_ca_paused{ca="backup"} 1');
    expect(text).toContain('certfleet_hostnames{status="failed"} 1');
    expect(text).toContain('certfleet_hostnames{status="total"} 6');
  });

  it('shares one reading between scrapes within the cache time, and reads again after it', async () => {
    const calls = { count: 0 };
    let now = NOW;
    const registry = new Registry();
    registerFleetMetrics(registry, { sources: fakeSources({ calls }), clock: () => now, cacheMs: 5_000 });
    await Promise.all([registry.metrics(), registry.metrics(), registry.metrics()]);
    expect(calls.count).toBe(1);
    now += 5_000;
    await registry.metrics();
    expect(calls.count).toBe(2);
  });

  it('reads once per scrape for all its series, even with no cache time', async () => {
    const calls = { count: 0 };
    const registry = new Registry();
    registerFleetMetrics(registry, { sources: fakeSources({ calls }), clock: () => NOW, cacheMs: 0 });
    await registry.metrics();
    expect(calls.count).toBe(1);
    await registry.metrics();
    expect(calls.count).toBe(2);
  });

  it('leaves the fleet series out and counts the error when Redis cannot be read, and still answers', async () => {
    const calls = { count: 0 };
    const registry = new Registry();
    registerFleetMetrics(registry, { sources: fakeSources({ fail: true, calls }), clock: () => NOW });
    const text = await registry.metrics();
    expect(text).not.toMatch(/^certfleet_certificates\{/m);
    expect(text).not.toMatch(/^certfleet_certificate_expiry_seconds_bucket/m);
    expect(text).toContain('certfleet_fleet_metrics_read_errors_total 1');
    // A failed reading is not cached: the next scrape tries again.
    await registry.metrics();
    expect(calls.count).toBe(2);
  });

  it('answers without the fleet series when Redis does not answer at all, and reads again next time', async () => {
    const calls = { count: 0 };
    const sources = fakeSources({ calls });
    // A BullMQ connection while Redis is unreachable: the command waits without end.
    sources.reads.certificateCounts = () => {
      calls.count++;
      return new Promise(() => {});
    };
    const registry = new Registry();
    const extra = new Counter({ name: 'certfleet_other_total', help: 'another metric of the role', registers: [registry] });
    extra.inc();
    registerFleetMetrics(registry, { sources, clock: () => NOW, readTimeoutMs: 20 });
    const text = await registry.metrics();
    expect(text).toContain('certfleet_other_total 1');
    expect(text).toContain('certfleet_fleet_metrics_read_errors_total 1');
    expect(text).not.toMatch(/^certfleet_certificates\{/m);
    await registry.metrics();
    expect(calls.count).toBe(2);
  });

  it('escapes a hostile hostname in a label rather than breaking the exposition', async () => {
    const sources = fakeSources({ failing: ['evil"}\nx 1'] });
    sources.reads.notAfterOf = async (names) => names.map(() => NOW);
    const registry = new Registry();
    registerFleetMetrics(registry, { sources, clock: () => NOW });
    const text = await registry.metrics();
    expect(text).toContain('hostname="evil\\"}\\nx 1"');
    expect(text).not.toMatch(/^x 1$/m);
  });
});
