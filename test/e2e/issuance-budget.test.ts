import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '@certfleet/store';
import { Redis } from 'ioredis';
import { cli } from '../support/certfleet.js';
import { ordersFor } from '../support/pebble.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake } from '../support/tls-client.js';
import { until } from '../support/wait.js';

const CAPACITY = 3;
/** Seven refills for ten names: 14 s of pacing, where a burst takes a second. */
const REFILL_MS = 2_000;
/** The CA's Retry-After on its 429, in seconds. */
const RETRY_AFTER_S = 10;
/**
 * An issuer logs "issuance started" a Redis write after its token was taken on Redis's clock,
 * in a process running several jobs at once: seen to lag by up to 170 ms more for one order
 * than for another here. Half a second is a quarter of a refill: a burst beyond the capacity
 * still shows.
 */
const CLOCK_SLACK_MS = 500;
/**
 * The proxy sees a newOrder after a nonce request and the order's own round trip, through this
 * (busy) test process: on the loaded 2-core machine that latency was seen to vary by up to 1.4 s
 * (see renewal-backlog), which can bring two orders closer together than their tokens were.
 */
const PROXY_SLACK_MS = 3_000;

/** The first two of `times` (sorted) closer together than a bucket of CAPACITY, refilled every REFILL_MS, allows, with `slackMs` of room. */
function overBucket(times: readonly number[], slackMs: number): string | undefined {
  for (let i = 0; i < times.length; i += 1) {
    for (let j = i; j < times.length; j += 1) {
      const span = (times[j] as number) - (times[i] as number);
      if (j - i + 1 > CAPACITY + Math.floor((span + slackMs) / REFILL_MS)) return `${j - i + 1} orders (${i}..${j}) within ${span} ms`;
    }
  }
  return undefined;
}

/**
 * Issuance through a fault-injecting proxy in front of Pebble, with a small order budget
 * (capacity 3, one more every 2 s), two issuers.
 */
describe('issuance guards the CA account', () => {
  let stack: Stack;
  let redis: Redis;
  beforeAll(async () => {
    stack = await startStack({
      edges: 1,
      issuers: 2,
      proxy: true,
      env: {
        ACME_BUDGET_ORDERS: `${CAPACITY}/${REFILL_MS / 1000}s/1`,
        ACME_VISITOR_RESERVE: '0',
        ISSUER_CONCURRENCY: '4',
        // Far longer than any test waits: a visitor served at once was not served by a timeout.
        EDGE_ISSUE_WAIT: '30s',
        // Node's handshake timeout bounds the wait too: it must outlast it.
        EDGE_HANDSHAKE_TIMEOUT: '40s',
      },
    });
    redis = new Redis(stack.redis.port, '127.0.0.1');
  });
  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
  });
  const store = () => createStore(redis, stack.prefix, { keyring: stack.keyring });
  const stored = async (names: string[]) => (await Promise.all(names.map((n) => store().certificates.get(n)))).every(Boolean);

  it('orders no faster than the token bucket allows, and issues every name in the end', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `budget-${i}.example.com`);
    const added = await cli(['domains', 'add', '--issue', ...names], stack.env);
    expect(added.stdout).toContain('10 enqueued for issuance');
    await until('all 10 issued', () => stored(names), 90_000, 500);
    const orders = stack.proxy!.newOrders().map((r) => r.at);
    expect(orders).toHaveLength(10);
    // When each order took its token, as the issuers logged it (through a pipe: wait for all ten).
    const started = await until(
      'ten "issuance started" lines',
      () => {
        const times = stack.issuers
          .flatMap((issuer) => issuer.logs('issuance started'))
          .filter((r) => names.includes(r.domain as string))
          .map((r) => Date.parse(r.time as string))
          .sort((a, b) => a - b);
        return times.length === 10 && times;
      },
      5_000,
      50,
    );
    // A token bucket: in any window from one order to a later one, at most capacity + refills;
    // held strictly on the token times, and with room for the proxy's latency on the CA's side.
    expect(overBucket(started, CLOCK_SLACK_MS)).toBeUndefined();
    expect(overBucket(orders, PROXY_SLACK_MS)).toBeUndefined();
    // The first three went at once, the rest waited for refills.
    expect((started[2] as number) - (started[0] as number)).toBeLessThan(REFILL_MS);
    expect((started[9] as number) - (started[0] as number)).toBeGreaterThanOrEqual(7 * REFILL_MS - CLOCK_SLACK_MS);
    expect((orders[9] as number) - (orders[0] as number)).toBeGreaterThanOrEqual(7 * REFILL_MS - PROXY_SLACK_MS);
  }, 120_000);

  it(`after a 429 with Retry-After: ${RETRY_AFTER_S}, no issuer sends a new order for ${RETRY_AFTER_S} s, then issuance resumes`, async () => {
    const proxy = stack.proxy!;
    proxy.addRule({
      kind: 'newOrder',
      times: 1,
      respond: { status: 429, retryAfter: String(RETRY_AFTER_S), detail: 'too many new orders' },
    });
    const names = ['after-429-a.example.com', 'after-429-b.example.com', 'after-429-c.example.com'];
    const seenBefore = proxy.records().length;
    // One name first, so that a single order is in flight when the 429 comes back (an order
    // already on its way then is not a new one); the others are enqueued once it has.
    const [firstName, ...otherNames] = names as [string, ...string[]];
    await cli(['domains', 'add', '--issue', firstName], stack.env);
    await until(
      'the 429',
      () =>
        proxy
          .records()
          .slice(seenBefore)
          .some((r) => r.status === 429),
      30_000,
      100,
    );
    // The issuer has paused the CA (in Redis) and put the job off.
    await until(
      'the job delayed',
      () => stack.issuers.some((issuer) => issuer.logs('no CA can take the order now; job delayed').some((r) => r.domain === firstName)),
      10_000,
      50,
    );
    await cli(['domains', 'add', '--issue', ...otherNames], stack.env);
    // While the CA is paused, a visitor's new name gets the fallback at once; its job waits.
    const visitors = ['paused-visitor-a.example.com', 'paused-visitor-b.example.com'];
    await cli(['domains', 'add', ...visitors], stack.env);
    const edge = stack.edges[0]!;
    for (const visitor of visitors) {
      expect((await handshake(edge.ports.httpsPort, visitor)).subjectaltname).toBe('DNS:certfleet-fallback.invalid');
    }
    // Each was given up on at once: its job was delayed, or the edge already knew no CA could
    // take an order (logs arrive through a pipe, so wait for them).
    const atOnce = ['no CA can take the order now; fallback at once', 'no CA can take an order now; enqueued, fallback at once'];
    for (const visitor of visitors) {
      await until(
        `${visitor} given up on at once`,
        () => atOnce.some((msg) => edge.proc.logs(msg).some((r) => r.domain === visitor)),
        5_000,
        50,
      );
    }
    expect(edge.proc.logs('certificate not ready in time; fallback')).toHaveLength(0);
    await until('all issued once the pause is over', () => stored([...names, ...visitors]), 90_000, 500);
    const orders = proxy
      .records()
      .slice(seenBefore)
      .filter((r) => r.kind === 'newOrder');
    const limited = orders.find((r) => r.status === 429);
    expect(limited).toBeDefined();
    const after = orders.filter((r) => r.at > (limited?.at ?? 0));
    expect(after.length).toBeGreaterThanOrEqual(3);
    // Both the proxy's times, and the pause starts once the issuer has the 429: a few ms of room.
    for (const order of after) expect(order.at - (limited?.at ?? 0)).toBeGreaterThanOrEqual(RETRY_AFTER_S * 1000 - 250);
  }, 120_000);

  it('cools a name down after a failed validation: 50 more handshakes make no new order', async () => {
    const name = 'unreachable.example.com';
    // Pebble validates http-01 at 127.0.0.2, where nothing listens.
    await stack.pebble.challtest('add-a', { host: `${name}.`, addresses: ['127.0.0.2'] });
    await cli(['domains', 'add', name], stack.env);
    const port = stack.edges[0]!.ports.httpsPort;
    await handshake(port, name);
    const state = await until(
      'the name cools down',
      async () => {
        const status = JSON.parse((await cli(['domains', 'status', name, '--json'], stack.env)).stdout) as {
          state?: string;
          coolUntil?: number;
          lastError?: string;
        };
        return status.state === 'cooling' ? status : undefined;
      },
      60_000,
      500,
    );
    expect(state.coolUntil).toBeGreaterThan(Date.now() + 30_000);
    expect(state.lastError).toMatch(/could not validate unreachable\.example\.com/);
    expect(ordersFor(stack.pebble, name)).toBe(1);
    const ordersBefore = stack.proxy!.newOrders().length;
    const edge = stack.edges[0]!.proc;
    const coolingFallbacks = () => edge.logs('name cooling down or failed; fallback').filter((r) => r.domain === name).length;
    const fallbacksBefore = coolingFallbacks();
    for (let i = 0; i < 50; i += 1) expect((await handshake(port, name)).subjectaltname).toBe('DNS:certfleet-fallback.invalid');
    // Each handshake was refused for the cooling state, before anything is enqueued (the edge's
    // log arrives through a pipe: wait for all 50 lines), so no job can order behind them.
    await until('50 fallbacks for the cooling name', () => coolingFallbacks() - fallbacksBefore === 50, 10_000, 50);
    expect(stack.proxy!.newOrders().length).toBe(ordersBefore);
    expect(ordersFor(stack.pebble, name)).toBe(1);
    const text = (await cli(['domains', 'status', name], stack.env)).stdout;
    expect(text).toMatch(/state\s+cooling down until \d{4}-/);
    expect(text).toMatch(/attempts\s+1/);
    // An operator clears it; the next handshake may order again.
    expect((await cli(['domains', 'retry', name], stack.env)).stdout).toContain(`${name}: cleared`);
  }, 120_000);
});
