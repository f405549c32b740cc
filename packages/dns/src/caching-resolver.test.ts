import { describe, expect, it } from 'vitest';
import { createCachingResolver, type CachingResolverOptions } from './caching-resolver.js';
import { DnsUnavailableError } from './errors.js';
import type { DnsResponse, RecordType } from './response.js';

const a = (name: string, ip: string, ttl: number) => ({ name, type: 'A' as const, ttl, data: ip });
const outage = (name: string, type: RecordType) =>
  new DnsUnavailableError({ name, type }, [{ server: { host: '127.0.0.1', port: 53 }, reason: 'SERVFAIL' }]);

type Answer = (name: string, type: RecordType) => Promise<DnsResponse>;

/** A client whose next answer the test sets, counting the queries that reach it. */
function scripted(answer: Answer) {
  const calls: string[] = [];
  const client = {
    query(name: string, type: RecordType) {
      calls.push(`${type} ${name}`);
      return answer(name, type);
    },
  };
  return { calls, client };
}

function setup(answer: Answer, overrides: Partial<CachingResolverOptions> = {}) {
  const time = { now: 1_000_000 };
  const { calls, client } = scripted(answer);
  const resolver = createCachingResolver({
    client,
    clock: () => time.now,
    minTtlMs: 1_000,
    maxTtlMs: 60_000,
    negativeTtlMs: 5_000,
    maxStaleMs: 300_000,
    maxEntries: 100,
    ...overrides,
  });
  return { time, calls, resolver };
}

describe('createCachingResolver', () => {
  it('caches a positive answer for its smallest record TTL, clamped to [minTtlMs, maxTtlMs]', async () => {
    let ttl = 30;
    const { time, calls, resolver } = setup(async () => ({
      rcode: 'NOERROR',
      answers: [a('x.example', '192.0.2.1', ttl), a('x.example', '192.0.2.2', ttl + 10)],
    }));
    expect((await resolver.query('x.example', 'A')).expiresAt).toBe(time.now + 30_000);
    ttl = 0; // below the floor
    expect((await resolver.query('zero.example', 'A')).expiresAt).toBe(time.now + 1_000);
    ttl = 86_400; // above the ceiling
    expect((await resolver.query('day.example', 'A')).expiresAt).toBe(time.now + 60_000);
    time.now += 29_999;
    await resolver.query('X.Example.', 'A');
    expect(calls.filter((c) => c === 'A x.example')).toHaveLength(1);
    time.now += 1;
    await resolver.query('x.example', 'A');
    expect(calls.filter((c) => c === 'A x.example')).toHaveLength(2);
  });

  it('caches NXDOMAIN and empty answers for negativeTtlMs, or less when the SOA asks', async () => {
    let response: DnsResponse = { rcode: 'NXDOMAIN', answers: [] };
    const { time, resolver } = setup(async () => response);
    expect((await resolver.query('gone.example', 'A')).expiresAt).toBe(time.now + 5_000);
    response = { rcode: 'NOERROR', answers: [], authoritiesMinTtl: 2 };
    expect((await resolver.query('nodata.example', 'AAAA')).expiresAt).toBe(time.now + 2_000);
    response = { rcode: 'NXDOMAIN', answers: [], authoritiesMinTtl: 0 }; // floor still applies
    expect((await resolver.query('gone2.example', 'A')).expiresAt).toBe(time.now + 1_000);
    response = { rcode: 'NXDOMAIN', answers: [], authoritiesMinTtl: 3_600 }; // the operator's cap wins
    expect((await resolver.query('gone3.example', 'A')).expiresAt).toBe(time.now + 5_000);
  });

  it('serves the last good answer, marked stale, while servers fail within maxStaleMs, then throws', async () => {
    let failing = false;
    const { time, resolver } = setup(async (name, type) => {
      if (failing) throw outage(name, type);
      return { rcode: 'NOERROR', answers: [a('x.example', '192.0.2.1', 10)] };
    });
    const fresh = await resolver.query('x.example', 'A');
    failing = true;
    time.now = fresh.expiresAt + 299_999;
    const stale = await resolver.query('x.example', 'A');
    expect(stale).toEqual({ response: fresh.response, stale: true, expiresAt: fresh.expiresAt });
    time.now = fresh.expiresAt + 300_000;
    await expect(resolver.query('x.example', 'A')).rejects.toBeInstanceOf(DnsUnavailableError);
    // Without any earlier answer there is nothing to serve.
    await expect(resolver.query('never.example', 'A')).rejects.toThrow('no DNS server answered for never.example A: 127.0.0.1:53 SERVFAIL');
    failing = false;
    expect((await resolver.query('x.example', 'A')).stale).toBe(false);
  });

  it('does not serve stale answers for errors that are not outages', async () => {
    let error: Error | null = null;
    const { time, resolver } = setup(async () => {
      if (error) throw error;
      return { rcode: 'NOERROR', answers: [a('x.example', '192.0.2.1', 10)] };
    });
    await resolver.query('x.example', 'A');
    time.now += 11_000;
    error = new TypeError('a bug');
    await expect(resolver.query('x.example', 'A')).rejects.toThrow('a bug');
  });

  it('sends concurrent identical questions to the client once', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { calls, resolver } = setup(async () => {
      await gate;
      return { rcode: 'NOERROR', answers: [a('x.example', '192.0.2.1', 60)] };
    });
    const all = Promise.all([
      ...Array.from({ length: 10 }, () => resolver.query('x.example', 'A')),
      resolver.query('X.EXAMPLE.', 'A'),
      resolver.query('x.example', 'AAAA'),
    ]);
    release();
    const answers = await all;
    expect(calls.sort()).toEqual(['A x.example', 'AAAA x.example']);
    expect(new Set(answers.slice(0, 11).map((r) => r.response)).size).toBe(1);
  });

  it('shares one failure among concurrent callers and asks again afterwards', async () => {
    let fail = true;
    const { calls, resolver } = setup(async () => {
      if (fail) throw outage('x.example', 'A');
      return { rcode: 'NOERROR', answers: [a('x.example', '192.0.2.1', 60)] };
    });
    const results = await Promise.allSettled([resolver.query('x.example', 'A'), resolver.query('x.example', 'A')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await resolver.query('x.example', 'A');
    expect(calls).toHaveLength(2);
  });

  it('keeps at most maxEntries answers', async () => {
    const { calls, resolver } = setup(async () => ({ rcode: 'NOERROR', answers: [a('n', '192.0.2.1', 60)] }), { maxEntries: 2 });
    for (const name of ['a.example', 'b.example', 'c.example', 'a.example']) await resolver.query(name, 'A');
    expect(calls).toEqual(['A a.example', 'A b.example', 'A c.example', 'A a.example']);
  });

  it('refuses options that cannot work, saying which', () => {
    expect(() => setup(async () => ({ rcode: 'NOERROR', answers: [] }), { minTtlMs: 10_000, maxTtlMs: 5_000 })).toThrow(
      'DNS cache minTtlMs (10000) must not exceed maxTtlMs (5000)',
    );
    expect(() => setup(async () => ({ rcode: 'NOERROR', answers: [] }), { maxEntries: 0 })).toThrow(
      'maxEntries must be a whole number of 1 or more',
    );
  });
});
