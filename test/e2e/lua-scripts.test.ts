import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BucketState, type BudgetClaim, type BucketTakeInput, takeAll, takeAllAt } from '@certfleet/budget';
import { createStore, redisKeys } from '@certfleet/store';
import type { Redis } from 'ioredis';
import { keyringOf, newKeyLine, writeKeyFile } from '../support/at-rest-keys.js';
import { newPrefix } from '../support/certfleet.js';
import { startRedis, type RedisServer } from '../support/redis.js';

const HOUR = 3_600_000;

/** Redis's clock as the scripts read it (TIME, in ms). */
async function redisNow(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

async function bucketState(redis: Redis, key: string): Promise<BucketState | undefined> {
  const [tokens, ts] = await redis.hmget(key, 'tokens', 'ts');
  return tokens === null || ts === null ? undefined : { tokens: Number(tokens), ts: Number(ts) };
}

describe('the Lua scripts against a real Redis', () => {
  let server: RedisServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('takes from token buckets exactly as the pure arithmetic says, take after take', async () => {
    const keys = redisKeys(newPrefix()).buckets;
    // Intervals of an hour or more: Redis's clock moving between two calls refills nothing, and
    // the model is run at the times read just before and just after each call to bound it.
    const claims: BudgetClaim[] = [
      { key: keys.caOrders('a'), spec: { capacity: 5, refillIntervalMs: HOUR }, floor: 2 },
      { key: keys.registeredDomain('a', 'example.com'), spec: { capacity: 3, refillIntervalMs: HOUR / 7 } },
      { key: keys.nameSet('a', ['x.example.com']), spec: { capacity: 2, refillIntervalMs: 2 * HOUR } },
      { key: keys.caRenewals('a'), spec: { capacity: 4, refillIntervalMs: HOUR } },
    ];
    const start = await redisNow(redis);
    // Seeded part-way through refills (1 and 2.5 intervals ago), with a clock ahead of Redis's,
    // and long enough ago to refill past the capacity (the clock then moves to now).
    const seeds: BucketState[] = [
      { tokens: 1, ts: start - HOUR - 1_234 },
      { tokens: 0, ts: start - 2.5 * (HOUR / 7) },
      { tokens: 1, ts: start + 60_000 },
      { tokens: 0, ts: start - 9.5 * HOUR },
    ];
    for (const [i, claim] of claims.entries()) {
      await redis.hset(claim.key, 'tokens', seeds[i]?.tokens ?? 0, 'ts', seeds[i]?.ts ?? 0);
    }
    const outcomes: boolean[] = [];
    for (const count of [1, 1, 2, 1, 3, 0, 1]) {
      const before = await Promise.all(claims.map((c) => bucketState(redis, c.key)));
      const inputs: BucketTakeInput[] = claims.map((c, i) => ({ spec: c.spec, floor: c.floor, state: before[i] }));
      const t1 = await redisNow(redis);
      const lua = await takeAll(redis, claims, count);
      const t2 = await redisNow(redis);
      const early = takeAllAt(inputs, count, t1);
      const late = takeAllAt(inputs, count, t2);
      expect(late.granted).toBe(early.granted);
      expect(lua.granted).toBe(early.granted);
      expect(lua.refusedBy).toBe(early.refusedIndex === undefined ? undefined : claims[early.refusedIndex]);
      expect(lua.retryAfterMs).toBeLessThanOrEqual(early.waitMs);
      expect(lua.retryAfterMs).toBeGreaterThanOrEqual(late.waitMs);
      for (const [i, claim] of claims.entries()) {
        const after = await bucketState(redis, claim.key);
        expect(after?.tokens).toBe(early.states[i]?.tokens);
        expect(after?.ts).toBeGreaterThanOrEqual(early.states[i]?.ts ?? Number.NaN);
        expect(after?.ts).toBeLessThanOrEqual(late.states[i]?.ts ?? Number.NaN);
        const ttl = await redis.pttl(claim.key);
        expect(ttl).toBeLessThanOrEqual(early.expireMs[i] ?? Number.NaN);
        expect(ttl).toBeGreaterThan((early.expireMs[i] ?? 0) - 1_000);
      }
      outcomes.push(lua.granted);
    }
    // The sequence went through both answers.
    expect(outcomes).toContain(true);
    expect(outcomes).toContain(false);
  });

  it('releases a lease only while its holder still holds it, and runs again after SCRIPT FLUSH', async () => {
    const prefix = newPrefix();
    const store = createStore(redis, prefix);
    const leaseKey = redisKeys(prefix).lease('tick');
    const inner = await store.leases.run('tick', 60_000, () => store.leases.run('tick', 60_000, async () => 'never'));
    expect(inner).toEqual({ ran: true, value: { ran: false } });
    expect(await redis.exists(leaseKey)).toBe(0);
    // The lease expired and another process took it while this job ran: its lease stays.
    await store.leases.run('tick', 60_000, async () => redis.set(leaseKey, 'another-holder'));
    expect(await redis.get(leaseKey)).toBe('another-holder');
    await redis.del(leaseKey);
    // A restarted Redis knows no script: the command falls back from EVALSHA to EVAL.
    await redis.script('FLUSH');
    expect(await store.leases.run('tick', 60_000, async () => 'ran')).toEqual({ ran: true, value: 'ran' });
    expect(await redis.exists(leaseKey)).toBe(0);
  });

  it('rotates the session-ticket keys once per interval: next becomes current, current previous', async () => {
    const prefix = newPrefix();
    const store = createStore(redis, prefix, { keyring: keyringOf(writeKeyFile([newKeyLine()])) });
    const first = await store.ticketKeys.rotateIfDue(HOUR);
    expect(first.previous).toBeUndefined();
    expect(await store.ticketKeys.rotateIfDue(HOUR)).toEqual(first);
    // An interval later (the stored rotation moved back rather than waiting for it).
    const key = redisKeys(prefix).ticketKeys;
    const stored = JSON.parse((await redis.get(key)) ?? '{}') as { rotatedAt: number };
    await redis.set(key, JSON.stringify({ ...stored, rotatedAt: stored.rotatedAt - HOUR }));
    const rotated = await store.ticketKeys.rotateIfDue(HOUR);
    expect(rotated.current).toEqual(first.next);
    expect(rotated.previous).toEqual(first.current);
    expect(rotated.next).not.toEqual(first.next);
    expect(rotated.rotatedAt).toBeGreaterThanOrEqual(first.rotatedAt);
  });
});
