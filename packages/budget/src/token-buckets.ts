import type { Redis } from 'ioredis';
import type { BucketSpec } from './bucket-spec.js';
import { takeAll } from './multi-take.js';

export interface TakeResult {
  granted: boolean;
  /** When refused: how long until enough tokens are back. */
  retryAfterMs: number;
}

/** Token buckets shared by the whole fleet, in Redis. Keys are the caller's (under its prefix). */
export interface TokenBuckets {
  take(key: string, spec: BucketSpec, count?: number): Promise<TakeResult>;
}

/** One bucket at a time: the all-or-nothing take over a single claim. */
export function createTokenBuckets(redis: Redis): TokenBuckets {
  return {
    async take(key, spec, count = 1) {
      const result = await takeAll(redis, [{ key, spec }], count);
      return { granted: result.granted, retryAfterMs: result.retryAfterMs };
    },
  };
}
