import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

/** A domain-policy decision as the fleet shares it. */
export interface StoredDecision {
  allowed: boolean;
  policy: string;
  reason: string;
  /** When it was made (ms since epoch). */
  at: number;
  /** When it stops being trusted (ms since epoch). */
  expiresAt: number;
}

/** A policy's last definite answer for a name, kept so it can stand in while the policy's source is down. */
export interface RememberedAnswer {
  verdict: 'allow' | 'deny';
  reason: string;
  at: number;
}

export interface DecisionStore {
  get(name: string): Promise<StoredDecision | null>;
  put(name: string, decision: StoredDecision): Promise<void>;
  /** Takes the fleet-wide right to evaluate `name` for `ttlMs`; false when another process holds it. */
  lock(name: string, ttlMs: number): Promise<boolean>;
  unlock(name: string): Promise<void>;
  remembered(name: string, policy: string): Promise<RememberedAnswer | null>;
  remember(name: string, policy: string, answer: RememberedAnswer, keepMs: number): Promise<void>;
  /** Forgets the fleet's decision for names (after an operator changed the allowlist). */
  forget(names: readonly string[]): Promise<void>;
}

export function createDecisionStore(redis: RedisClient, keys: RedisKeys): DecisionStore {
  return {
    async get(name) {
      const raw = await redis.get(keys.decision(name));
      return raw ? (JSON.parse(raw) as StoredDecision) : null;
    },
    async put(name, decision) {
      const ttl = Math.max(1, Math.round(decision.expiresAt - decision.at));
      await redis.set(keys.decision(name), JSON.stringify(decision), 'PX', ttl);
    },
    lock: async (name, ttlMs) => (await redis.set(keys.decisionLock(name), '1', 'PX', ttlMs, 'NX')) === 'OK',
    async unlock(name) {
      await redis.del(keys.decisionLock(name));
    },
    async remembered(name, policy) {
      const raw = await redis.hget(keys.policyMemory(name), policy);
      return raw ? (JSON.parse(raw) as RememberedAnswer) : null;
    },
    async remember(name, policy, answer, keepMs) {
      await redis
        .multi()
        .hset(keys.policyMemory(name), policy, JSON.stringify(answer))
        .pexpire(keys.policyMemory(name), Math.max(1_000, Math.round(keepMs)))
        .exec();
    },
    async forget(names) {
      // One UNLINK per name, sent together: each decision is in its name's Cluster slot.
      await Promise.all(names.map((name) => redis.unlink(keys.decision(name))));
    },
  };
}
