import { LRUCache } from 'lru-cache';
import { createSingleflight } from '@certfleet/singleflight';
import type { DecisionStore, StoredDecision } from '@certfleet/store';
import type { PolicyChain } from './chain.js';
import type { Decision } from './types.js';

export interface DecisionServiceOptions {
  chain: PolicyChain;
  store: DecisionStore;
  /** Called once per fresh evaluation (so once per name per TTL across the fleet): log and count here. */
  onEvaluated?: (name: string, decision: Decision) => void;
  /** Names remembered in process. */
  localMax: number;
  /** Longest an evaluation may take (the ask timeout plus DNS): the fleet lock's lifetime. */
  evaluationTimeoutMs: number;
  clock?: () => number;
}

/**
 * Policy decisions for the fleet: a name is evaluated once per TTL across every process (a
 * Redis lock; the others wait for its result), remembered in process and in Redis, so a name
 * that was denied costs a map lookup on the handshake path, not a DNS query or an HTTP call.
 */
export function createDecisionService(options: DecisionServiceOptions) {
  const clock = options.clock ?? Date.now;
  const local = new LRUCache<string, StoredDecision>({ max: options.localMax });
  const evaluations = createSingleflight<string, StoredDecision>();

  const fresh = (decision: StoredDecision | null | undefined): decision is StoredDecision =>
    decision !== null && decision !== undefined && decision.expiresAt > clock();

  function keep(name: string, decision: StoredDecision): StoredDecision {
    local.set(name, decision, { ttl: Math.max(1, decision.expiresAt - clock()) });
    return decision;
  }

  /** The decision this process holds: synchronous, no I/O. */
  function cached(name: string): StoredDecision | undefined {
    const hit = local.get(name);
    return fresh(hit) ? hit : undefined;
  }

  /** The decision in this process or in Redis; null when the name must be evaluated. */
  async function lookup(name: string): Promise<StoredDecision | null> {
    const hit = cached(name);
    if (hit) return hit;
    const shared = await options.store.get(name);
    return fresh(shared) ? keep(name, shared) : null;
  }

  /**
   * Evaluates `name` under the fleet's lock, or takes the decision of the process that held it.
   * Only a decision made at or after `notBefore` is taken: an evaluation asked for afresh (a
   * renewal: a customer who left must not be renewed on a cached allow) ignores one made earlier.
   */
  async function evaluateOnce(name: string, notBefore: number): Promise<StoredDecision> {
    const usable = (decision: StoredDecision | null): decision is StoredDecision => fresh(decision) && decision.at >= notBefore;
    const lockMs = options.evaluationTimeoutMs + 1_000;
    const held = await options.store.lock(name, lockMs);
    if (!held) {
      // Another process is evaluating this name: wait for its answer rather than ask again.
      const deadline = clock() + lockMs;
      while (clock() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        const shared = await options.store.get(name);
        if (usable(shared)) return keep(name, shared);
      }
    } else {
      // The holder before us may have finished between our lookup and our lock.
      const shared = await options.store.get(name);
      if (usable(shared)) {
        await options.store.unlock(name).catch(() => undefined);
        return keep(name, shared);
      }
    }
    try {
      const decision = await options.chain.decide(name);
      const now = clock();
      const stored: StoredDecision = {
        allowed: decision.allowed,
        policy: decision.policy,
        reason: decision.reason,
        at: now,
        expiresAt: now + decision.ttlMs,
      };
      await options.store.put(name, stored);
      options.onEvaluated?.(name, decision);
      return keep(name, stored);
    } finally {
      // Only our own lock: after waiting out another process's, we evaluate without one, and
      // its lock (or a third process's, taken since) is not ours to remove.
      if (held) await options.store.unlock(name).catch(() => undefined);
    }
  }

  /**
   * Evaluates `name` now (collapsing concurrent calls), stores and returns the decision: a
   * decision made before this call, in this process or another, is not taken.
   */
  function evaluate(name: string): Promise<StoredDecision> {
    const askedAt = clock();
    return evaluations.run(name, () => evaluateOnce(name, askedAt));
  }

  return {
    cached,
    lookup,
    evaluate,
    /** lookup, else evaluate. */
    async decide(name: string): Promise<StoredDecision> {
      return (await lookup(name)) ?? evaluations.run(name, () => evaluateOnce(name, Number.NEGATIVE_INFINITY));
    },
  };
}

export type DecisionService = ReturnType<typeof createDecisionService>;
