import type { Cluster, Redis } from 'ioredis';
import type { BucketSpec } from './bucket-spec.js';
import { takeAll, type BudgetClaim, type TakeAllResult } from './multi-take.js';

export interface TakeResult {
  granted: boolean;
  /** When refused: how long until enough tokens are back. */
  retryAfterMs: number;
}

/** Token buckets shared by the whole fleet, in Redis. Keys are the caller's (under its prefix). */
export interface TokenBuckets {
  take(key: string, spec: BucketSpec, count?: number): Promise<TakeResult>;
  /** `count` tokens from every claimed bucket, or none from any: one script per Cluster slot (one on a single server). */
  takeAll(claims: readonly BudgetClaim[], count?: number): Promise<TakeAllResult>;
}

/** Buckets on one Redis: a single claim, or several all-or-nothing. */
export function createTokenBuckets(redis: Redis | Cluster): TokenBuckets {
  return {
    async take(key, spec, count = 1) {
      const result = await takeAll(redis, [{ key, spec }], count);
      return { granted: result.granted, retryAfterMs: result.retryAfterMs };
    },
    takeAll: (claims, count = 1) => takeAll(redis, claims, count),
  };
}
