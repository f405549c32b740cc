import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

/**
 * The renewal index: name -> when to renew. Reading costs what is due, not what is stored.
 */
export interface RenewalIndex {
  /** Up to `limit` names due at `now`, earliest first. */
  due(now: number, limit: number): Promise<string[]>;
  /** Looks at `names` again at `at` (after a renewal was enqueued), unless they were removed meanwhile. */
  postpone(names: readonly string[], at: number): Promise<void>;
  when(name: string): Promise<number | null>;
}

export function createRenewalIndex(redis: Redis, keys: RedisKeys): RenewalIndex {
  return {
    due: (now, limit) => redis.zrangebyscore(keys.renewals, '-inf', now, 'LIMIT', 0, limit),
    async postpone(names, at) {
      if (names.length === 0) return;
      await redis.zadd(keys.renewals, 'XX', ...names.flatMap((name) => [at, name]));
    },
    async when(name) {
      const score = await redis.zscore(keys.renewals, name);
      return score === null ? null : Number(score);
    },
  };
}
