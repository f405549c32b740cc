import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

/**
 * http-01 answers, shared by the fleet: the issuer writes the key authorization, and whichever
 * edge the CA reaches reads it.
 */
export interface ChallengeStore {
  put(token: string, keyAuthorization: string, ttlMs: number): Promise<void>;
  get(token: string): Promise<string | null>;
  remove(token: string): Promise<void>;
}

export function createChallengeStore(redis: Redis, keys: RedisKeys): ChallengeStore {
  return {
    put: async (token, keyAuthorization, ttlMs) => {
      await redis.set(keys.challenge(token), keyAuthorization, 'PX', ttlMs);
    },
    get: (token) => redis.get(keys.challenge(token)),
    remove: async (token) => {
      await redis.del(keys.challenge(token));
    },
  };
}
