import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';
import { purposes, type SealedValues } from './sealed-values.js';
import type { PemPair } from './shared-secrets.js';

/**
 * http-01 answers, shared by the fleet: the issuer writes the key authorization, and whichever
 * edge the CA reaches reads it.
 */
export interface ChallengeStore {
  put(token: string, keyAuthorization: string, ttlMs: number): Promise<void>;
  get(token: string): Promise<string | null>;
  remove(token: string): Promise<void>;
  /** tls-alpn-01: the challenge certificate for `name` (its key sealed); edges are told at once (pub/sub). */
  putAlpn(name: string, answer: PemPair, ttlMs: number): Promise<void>;
  getAlpn(name: string): Promise<PemPair | null>;
  removeAlpn(name: string): Promise<void>;
}

export function createChallengeStore(redis: RedisClient, keys: RedisKeys, sealed: SealedValues): ChallengeStore {
  return {
    put: async (token, keyAuthorization, ttlMs) => {
      await redis.set(keys.challenge(token), keyAuthorization, 'PX', ttlMs);
    },
    get: (token) => redis.get(keys.challenge(token)),
    remove: async (token) => {
      await redis.del(keys.challenge(token));
    },
    putAlpn: async (name, answer, ttlMs) => {
      const stored = { certPem: answer.certPem, keyPem: sealed.seal(answer.keyPem, purposes.alpnKey(name)) };
      await redis.set(keys.alpnChallenge(name), JSON.stringify(stored), 'PX', ttlMs);
      await redis.publish(keys.alpnChanged, name);
    },
    getAlpn: async (name) => {
      const raw = await redis.get(keys.alpnChallenge(name));
      if (!raw) return null;
      const stored = JSON.parse(raw) as PemPair;
      return { certPem: stored.certPem, keyPem: sealed.open(stored.keyPem, purposes.alpnKey(name)) };
    },
    removeAlpn: async (name) => {
      await redis.del(keys.alpnChallenge(name));
      await redis.publish(keys.alpnChanged, name);
    },
  };
}
