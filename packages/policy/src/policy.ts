import { LRUCache } from 'lru-cache';
import type { AllowlistStore } from '@certfleet/store';

/** An answer to "may certfleet get a certificate for this name?", with the reason an operator reads. */
export interface Decision {
  allowed: boolean;
  /** Which policy decided: `allowlist`, later `dns`, `ask`. */
  policy: string;
  reason: string;
}

/**
 * Decides whether a (normalised) name may be issued. Runs on the handshake path for names with
 * no certificate: bounded time, no side effects, deny by default.
 */
export interface DomainPolicy {
  decide(name: string): Promise<Decision>;
}

/** Allows exactly the names in the Redis allowlist set. */
export function allowlistPolicy(allowlist: AllowlistStore): DomainPolicy {
  return {
    async decide(name) {
      return (await allowlist.has(name))
        ? { allowed: true, policy: 'allowlist', reason: 'the name is on the allowlist' }
        : { allowed: false, policy: 'allowlist', reason: 'the name is not on the allowlist' };
    },
  };
}

export interface DecisionCacheOptions {
  /** How long an allow is trusted; a removed name keeps working on an edge at most this long. */
  allowTtlMs: number;
  /** How long a deny is trusted; a scanner's repeated names cost a map lookup, not a Redis call. */
  denyTtlMs: number;
  max: number;
}

/**
 * Remembers decisions in process, and collapses concurrent questions about one name into one.
 */
export function cachedPolicy(inner: DomainPolicy, options: DecisionCacheOptions): DomainPolicy {
  const cache = new LRUCache<string, Decision>({ max: options.max, ttlAutopurge: false });
  const pending = new Map<string, Promise<Decision>>();
  return {
    decide(name) {
      const hit = cache.get(name);
      if (hit) return Promise.resolve(hit);
      const inflight = pending.get(name);
      if (inflight) return inflight;
      const promise = inner
        .decide(name)
        .then((decision) => {
          cache.set(name, decision, { ttl: decision.allowed ? options.allowTtlMs : options.denyTtlMs });
          return decision;
        })
        .finally(() => pending.delete(name));
      pending.set(name, promise);
      return promise;
    },
  };
}
