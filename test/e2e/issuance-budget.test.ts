import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '@certfleet/store';
import { Redis } from 'ioredis';
import { cli } from '../support/certfleet.js';
import { ordersFor } from '../support/pebble.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake } from '../support/tls-client.js';
import { until } from '../support/wait.js';

const CAPACITY = 3;
const REFILL_MS = 5_000;
/** The proxy sees an order a few ms after its token was taken on Redis's clock. */
const CLOCK_SLACK_MS = 250;

/**
 * Issuance through a fault-injecting proxy in front of Pebble, with a small order budget
 * (capacity 3, one more every 5 s), two issuers.
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
    // A token bucket: in any window from one order to a later one, at most capacity + refills.
    for (let i = 0; i < orders.length; i += 1) {
      for (let j = i; j < orders.length; j += 1) {
        const window = (orders[j] as number) - (orders[i] as number) + CLOCK_SLACK_MS;
        expect(j - i + 1, `orders ${i}..${j} within ${window} ms`).toBeLessThanOrEqual(CAPACITY + Math.floor(window / REFILL_MS));
      }
    }
    // The first three went at once, the rest waited for refills.
    expect((orders[2] as number) - (orders[0] as number)).toBeLessThan(REFILL_MS);
    expect((orders[9] as number) - (orders[0] as number)).toBeGreaterThanOrEqual(7 * REFILL_MS - CLOCK_SLACK_MS);
  }, 120_000);

  it('after a 429 with Retry-After: 20, no issuer sends a new order for 20 s, then issuance resumes', async () => {
    const proxy = stack.proxy!;
    proxy.addRule({ kind: 'newOrder', times: 1, respond: { status: 429, retryAfter: '20', detail: 'too many new orders' } });
    const names = ['after-429-a.example.com', 'after-429-b.example.com', 'after-429-c.example.com'];
    const seenBefore = proxy.records().length;
    await cli(['domains', 'add', '--issue', ...names], stack.env);
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
    for (const order of after) expect(order.at - (limited?.at ?? 0)).toBeGreaterThanOrEqual(20_000 - CLOCK_SLACK_MS);
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
    for (let i = 0; i < 50; i += 1) expect((await handshake(port, name)).subjectaltname).toBe('DNS:certfleet-fallback.invalid');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(stack.proxy!.newOrders().length).toBe(ordersBefore);
    expect(ordersFor(stack.pebble, name)).toBe(1);
    const text = (await cli(['domains', 'status', name], stack.env)).stdout;
    expect(text).toMatch(/state\s+cooling down until \d{4}-/);
    expect(text).toMatch(/attempts\s+1/);
    // An operator clears it; the next handshake may order again.
    expect((await cli(['domains', 'retry', name], stack.env)).stdout).toContain(`${name}: cleared`);
  }, 120_000);
});
