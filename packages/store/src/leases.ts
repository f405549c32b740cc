import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * Runs `job` only if no other process of the fleet holds the lease named `name`; returns
 * whether it ran. The lease expires after `ttlMs` even if its holder dies, so `ttlMs` must
 * exceed the job's longest run.
 */
export async function withLease<T>(
  redis: Redis,
  keys: RedisKeys,
  name: string,
  ttlMs: number,
  job: () => Promise<T>,
): Promise<{ ran: true; value: T } | { ran: false }> {
  const key = keys.lease(name);
  const holder = randomUUID();
  if ((await redis.set(key, holder, 'PX', ttlMs, 'NX')) !== 'OK') return { ran: false };
  try {
    return { ran: true, value: await job() };
  } finally {
    await redis.eval(RELEASE, 1, key, holder);
  }
}
