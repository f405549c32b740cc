import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

/** The names an operator allowed, as a Redis set. Names are normalised by the caller. */
export interface AllowlistStore {
  add(names: readonly string[]): Promise<number>;
  remove(names: readonly string[]): Promise<number>;
  has(name: string): Promise<boolean>;
  list(): Promise<string[]>;
}

export function createAllowlistStore(redis: Redis, keys: RedisKeys): AllowlistStore {
  return {
    add: async (names) => (names.length ? redis.sadd(keys.allowlist, ...names) : 0),
    remove: async (names) => (names.length ? redis.srem(keys.allowlist, ...names) : 0),
    has: async (name) => (await redis.sismember(keys.allowlist, name)) === 1,
    list: async () => (await redis.smembers(keys.allowlist)).sort(),
  };
}
