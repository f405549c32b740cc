import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

/**
 * http-01 answers, shared by the fleet: the issuer writes the key authorization, and whichever
 * edge the CA reaches reads it.
 */
export interface ChallengeStore {
  put(token: string, keyAuthorization: string, ttlMs: number): Promise<void>;
  get(token: string): Promise<string | null>;
  remove(token: string): Promise<void>;
  /** tls-alpn-01: the challenge certificate for `name`; edges are told at once (pub/sub). */
  putAlpn(name: string, answer: { certPem: string; keyPem: string }, ttlMs: number): Promise<void>;
  getAlpn(name: string): Promise<{ certPem: string; keyPem: string } | null>;
  removeAlpn(name: string): Promise<void>;
}

export function createChallengeStore(redis: RedisClient, keys: RedisKeys): ChallengeStore {
  return {
    put: async (token, keyAuthorization, ttlMs) => {
      await redis.set(keys.challenge(token), keyAuthorization, 'PX', ttlMs);
    },
    get: (token) => redis.get(keys.challenge(token)),
    remove: async (token) => {
      await redis.del(keys.challenge(token));
    },
    putAlpn: async (name, answer, ttlMs) => {
      await redis.set(keys.alpnChallenge(name), JSON.stringify(answer), 'PX', ttlMs);
      await redis.publish(keys.alpnChanged, name);
    },
    getAlpn: async (name) => {
      const raw = await redis.get(keys.alpnChallenge(name));
      return raw ? (JSON.parse(raw) as { certPem: string; keyPem: string }) : null;
    },
    removeAlpn: async (name) => {
      await redis.del(keys.alpnChallenge(name));
      await redis.publish(keys.alpnChanged, name);
    },
  };
}
