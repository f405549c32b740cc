import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

/**
 * When edges last served each name, so that renewal can skip names nobody visits. Writes are
 * sampled and batched by the edges; a later time never goes back (ZADD GT).
 */
export interface ServedNameStore {
  /** Records in one pipeline that each name was served at its time. */
  record(entries: readonly (readonly [name: string, at: number])[]): Promise<void>;
  /** When an edge last recorded serving `name`, or null if none ever did. */
  lastServed(name: string): Promise<number | null>;
}

export function createServedNameStore(redis: RedisClient, keys: RedisKeys): ServedNameStore {
  return {
    async record(entries) {
      if (entries.length === 0) return;
      await redis.zadd(keys.served, 'GT', ...entries.flatMap(([name, at]) => [at, name]));
    },
    async lastServed(name) {
      const value = await redis.zscore(keys.served, name);
      return value === null ? null : Number(value);
    },
  };
}
