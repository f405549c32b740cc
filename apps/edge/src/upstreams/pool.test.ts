import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAddressPolicy, type AddressPolicy } from '@certfleet/config';
import { createLogger } from '@certfleet/observability';
import { createUpstreamPool, type ResolveHost } from './pool.js';

/** A logger whose lines land in `records`, synchronously. */
function capturingLogger() {
  const records: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ role: 'test', level: 'debug', destination }), records };
}

/** A resolver whose answer the test sets; `null` makes it fail like a DNS outage. */
function fakeResolver(initial: string[] | null) {
  let answer = initial;
  const asked: string[] = [];
  const resolve: ResolveHost = async (host) => {
    asked.push(host);
    if (answer === null) throw new Error('every DNS server timed out');
    return answer;
  };
  return { resolve, asked, set: (next: string[] | null) => (answer = next) };
}

function pool(
  url: string,
  resolve: ResolveHost,
  overrides: Partial<{ maxIps: number; failTimeoutMs: number; resolveIntervalMs: number; addressPolicy: AddressPolicy }> = {},
) {
  let now = 1_000_000;
  const { logger, records } = capturingLogger();
  const p = createUpstreamPool({
    url: new URL(url),
    resolve,
    resolveIntervalMs: overrides.resolveIntervalMs ?? 15_000,
    maxIps: overrides.maxIps ?? 3,
    failTimeoutMs: overrides.failTimeoutMs ?? 10_000,
    logger,
    clock: () => now,
    ...(overrides.addressPolicy ? { addressPolicy: overrides.addressPolicy } : {}),
  });
  return { pool: p, records, advance: (ms: number) => (now += ms) };
}

const picks = (p: { pick(avoid?: string): string | undefined }, n: number) => Array.from({ length: n }, () => p.pick());

describe('upstream pool', () => {
  afterEach(() => vi.useRealTimers());

  it('uses an IP literal host as is, without asking the resolver', async () => {
    const dns = fakeResolver(['192.0.2.1']);
    const { pool: p } = pool('http://127.0.0.9:8080', dns.resolve);
    await p.ready();
    p.start();
    expect(p.pick()).toBe('127.0.0.9');
    expect(dns.asked).toEqual([]);
    p.stop();
  });

  it('strips the brackets of an IPv6 literal', async () => {
    const { pool: p } = pool('http://[::1]:8080', fakeResolver([]).resolve);
    await p.ready();
    expect(p.pick()).toBe('::1');
  });

  it('keeps at most maxIps addresses of the answer, in its order, and uses them round robin', async () => {
    const dns = fakeResolver(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
    const { pool: p } = pool('http://app.internal.example:8080', dns.resolve);
    await p.ready();
    expect(dns.asked).toEqual(['app.internal.example']);
    expect(p.addresses()).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(picks(p, 6)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });

  it('picks up changed addresses on the next resolution and logs the change once', async () => {
    const dns = fakeResolver(['10.0.0.1']);
    const { pool: p, records } = pool('http://app.example', dns.resolve);
    await p.ready();
    dns.set(['10.0.0.7', '10.0.0.8']);
    await p.refresh();
    await p.refresh();
    expect(p.addresses()).toEqual(['10.0.0.7', '10.0.0.8']);
    expect(new Set(picks(p, 4))).toEqual(new Set(['10.0.0.7', '10.0.0.8']));
    const changes = records.filter((r) => r.msg === 'upstream addresses changed');
    expect(changes.map((r) => r.addresses)).toEqual([['10.0.0.1'], ['10.0.0.7', '10.0.0.8']]);
  });

  it('re-resolves every interval once started', async () => {
    vi.useFakeTimers();
    const dns = fakeResolver(['10.0.0.1']);
    const { pool: p } = pool('http://app.example', dns.resolve, { resolveIntervalMs: 15_000 });
    p.start();
    await p.ready();
    expect(dns.asked).toHaveLength(1);
    dns.set(['10.0.0.2']);
    await vi.advanceTimersByTimeAsync(14_999);
    expect(p.addresses()).toEqual(['10.0.0.1']);
    await vi.advanceTimersByTimeAsync(1);
    expect(p.addresses()).toEqual(['10.0.0.2']);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(dns.asked).toHaveLength(4);
    p.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(dns.asked).toHaveLength(4);
  });

  it('keeps the last good addresses when resolution fails, and logs the failure once', async () => {
    const dns = fakeResolver(['10.0.0.1', '10.0.0.2']);
    const { pool: p, records } = pool('http://app.example', dns.resolve);
    await p.ready();
    dns.set(null);
    await p.refresh();
    await p.refresh();
    dns.set([]);
    await p.refresh();
    expect(p.addresses()).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(records.filter((r) => r.msg === 'upstream resolution failed; keeping the last addresses')).toHaveLength(1);
    dns.set(['10.0.0.1', '10.0.0.2']);
    await p.refresh();
    expect(records.filter((r) => r.msg === 'upstream resolution recovered')).toHaveLength(1);
  });

  it('has no address to offer when the first resolution fails', async () => {
    const { pool: p } = pool('http://app.example', fakeResolver(null).resolve);
    await p.ready();
    expect(p.pick()).toBeUndefined();
  });

  it('sets a failed address aside for failTimeoutMs while the others serve, then uses it again', async () => {
    const {
      pool: p,
      advance,
      records,
    } = pool('http://app.example', fakeResolver(['10.0.0.1', '10.0.0.2', '10.0.0.3']).resolve, {
      failTimeoutMs: 10_000,
    });
    await p.ready();
    p.setAside('10.0.0.2');
    expect(picks(p, 4)).toEqual(['10.0.0.1', '10.0.0.3', '10.0.0.1', '10.0.0.3']);
    advance(9_999);
    expect(picks(p, 4)).not.toContain('10.0.0.2');
    advance(1);
    expect(picks(p, 3).sort()).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(records.filter((r) => r.msg === 'upstream address failed; set aside').map((r) => r.address)).toEqual(['10.0.0.2']);
  });

  it('offers another healthy address for a retry, or none', async () => {
    const { pool: p } = pool('http://app.example', fakeResolver(['10.0.0.1', '10.0.0.2']).resolve);
    await p.ready();
    expect(p.pick('10.0.0.1')).toBe('10.0.0.2');
    p.setAside('10.0.0.2');
    expect(p.pick('10.0.0.1')).toBeUndefined();
  });

  it('when every address is set aside, offers the one that comes back first', async () => {
    const { pool: p, advance } = pool('http://app.example', fakeResolver(['10.0.0.1', '10.0.0.2']).resolve);
    await p.ready();
    p.setAside('10.0.0.2');
    advance(1_000);
    p.setAside('10.0.0.1');
    expect(p.pick()).toBe('10.0.0.2');
    expect(p.pick()).toBe('10.0.0.2');
  });

  it('forgets the set-aside state of an address that left the answer', async () => {
    const dns = fakeResolver(['10.0.0.1', '10.0.0.2']);
    const { pool: p } = pool('http://app.example', dns.resolve);
    await p.ready();
    p.setAside('10.0.0.2');
    dns.set(['10.0.0.1']);
    await p.refresh();
    dns.set(['10.0.0.1', '10.0.0.2']);
    await p.refresh();
    expect(picks(p, 2).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  describe('with an address policy (a route)', () => {
    const PUBLIC = '93.184.216.34';
    const refusals = (records: Record<string, unknown>[]) =>
      records.filter((r) => r.msg === 'upstream address refused').map((r) => [r.address, r.range, r.fix]);

    it('drops the addresses a host name is rebound to when they are loopback or metadata, and logs each once', async () => {
      const dns = fakeResolver([PUBLIC]);
      const { pool: p, records } = pool('http://customer.example:8080', dns.resolve, { addressPolicy: createAddressPolicy() });
      await p.ready();
      expect(p.pick()).toBe(PUBLIC);

      dns.set(['127.0.0.1']);
      await p.refresh();
      await p.refresh();
      expect(p.addresses()).toEqual([]);
      expect(p.pick()).toBeUndefined();

      dns.set(['169.254.169.254', '::ffff:127.0.0.1']);
      await p.refresh();
      expect(p.pick()).toBeUndefined();

      dns.set([PUBLIC]);
      await p.refresh();
      expect(p.pick()).toBe(PUBLIC);
      expect(refusals(records)).toEqual([
        ['127.0.0.1', 'loopback', 'list its network in UPSTREAM_ALLOWED_NETWORKS to allow it'],
        ['169.254.169.254', 'metadata', 'never allowed for a route'],
        ['::ffff:127.0.0.1', 'loopback', 'list its network in UPSTREAM_ALLOWED_NETWORKS to allow it'],
      ]);
      expect(records.filter((r) => r.msg === 'upstream address refused').every((r) => r.level === 40)).toBe(true);
    });

    it('catches the rebinding on the schedule, without being asked', async () => {
      vi.useFakeTimers();
      const dns = fakeResolver([PUBLIC]);
      const { pool: p } = pool('http://customer.example', dns.resolve, { addressPolicy: createAddressPolicy(), resolveIntervalMs: 15_000 });
      p.start();
      await p.ready();
      expect(p.addresses()).toEqual([PUBLIC]);
      dns.set(['10.0.0.5']);
      await vi.advanceTimersByTimeAsync(15_000);
      expect(p.addresses()).toEqual([]);
      p.stop();
    });

    it('does not let refused addresses take the place of usable ones among the first maxIps', async () => {
      const dns = fakeResolver(['127.0.0.1', '10.0.0.1', PUBLIC, '93.184.216.35']);
      const { pool: p } = pool('http://customer.example', dns.resolve, { addressPolicy: createAddressPolicy(), maxIps: 1 });
      await p.ready();
      expect(p.addresses()).toEqual([PUBLIC]);
    });

    it('refuses an IP literal host without resolving anything', async () => {
      const dns = fakeResolver([PUBLIC]);
      const { pool: p, records } = pool('http://169.254.169.254/', dns.resolve, { addressPolicy: createAddressPolicy() });
      await p.ready();
      p.start();
      expect(p.pick()).toBeUndefined();
      expect(dns.asked).toEqual([]);
      expect(refusals(records)).toEqual([['169.254.169.254', 'metadata', 'never allowed for a route']]);
      p.stop();
    });

    it('keeps what UPSTREAM_ALLOWED_NETWORKS allows, never metadata nor the Redis port', async () => {
      const policy = createAddressPolicy({
        allowedNetworks: ['127.0.0.0/8', '169.254.0.0/16'],
        redis: { addresses: ['127.0.0.1'], ports: [6379] },
      });
      const dns = fakeResolver(['127.0.0.1', '169.254.169.254', '169.254.1.1']);
      const { pool: p } = pool('http://customer.example:8080', dns.resolve, { addressPolicy: policy });
      await p.ready();
      expect(p.addresses()).toEqual(['127.0.0.1', '169.254.1.1']);
      const { pool: toRedis } = pool('http://customer.example:6379', dns.resolve, { addressPolicy: policy });
      await toRedis.ready();
      expect(toRedis.addresses()).toEqual(['169.254.1.1']);
    });
  });
});
