import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

/**
 * The renewal index: name -> when to renew, and name -> when to ask the CA's renewal window
 * (ARI) again. Both are sorted sets: reading costs what is due, not what is stored.
 */
export interface RenewalIndex {
  /** Up to `limit` names due at `now`, earliest first. */
  due(now: number, limit: number): Promise<string[]>;
  /** Looks at `names` again at `at` (after a renewal was enqueued), unless they were removed meanwhile. */
  postpone(names: readonly string[], at: number): Promise<void>;
  when(name: string): Promise<number | null>;
  /** Asks the CA for `name`'s renewal window again at `at`. */
  scheduleAriPoll(name: string, at: number): Promise<void>;
  /** Up to `limit` names whose renewal window is due to be asked again at `now`, earliest first. */
  dueAriPolls(now: number, limit: number): Promise<string[]>;
  nextAriPoll(name: string): Promise<number | null>;
  dropAriPoll(name: string): Promise<void>;
}

export function createRenewalIndex(redis: RedisClient, keys: RedisKeys): RenewalIndex {
  const score = async (key: string, name: string) => {
    const value = await redis.zscore(key, name);
    return value === null ? null : Number(value);
  };
  return {
    due: (now, limit) => redis.zrangebyscore(keys.renewals, '-inf', now, 'LIMIT', 0, limit),
    async postpone(names, at) {
      if (names.length === 0) return;
      await redis.zadd(keys.renewals, 'XX', ...names.flatMap((name) => [at, name]));
    },
    when: (name) => score(keys.renewals, name),
    async scheduleAriPoll(name, at) {
      await redis.zadd(keys.ariPolls, at, name);
    },
    dueAriPolls: (now, limit) => redis.zrangebyscore(keys.ariPolls, '-inf', now, 'LIMIT', 0, limit),
    nextAriPoll: (name) => score(keys.ariPolls, name),
    async dropAriPoll(name) {
      await redis.zrem(keys.ariPolls, name);
    },
  };
}
