import type { Cluster, Redis } from 'ioredis';
import { takeAllAt } from './bucket-math.js';
import type { BucketSpec } from './bucket-spec.js';

/**
 * Tokens a bucket holds at `now`, refilled as a take would refill it (bucket-math.ts), without
 * taking any: for metrics and status pages. A bucket never used, or expired, is full. `now` is
 * the caller's clock (the take scripts use Redis's): a skew of a second moves the answer by at
 * most the tokens refilled in a second.
 */
export async function readTokens(redis: Redis | Cluster, key: string, spec: BucketSpec, now: number): Promise<number> {
  const [tokens, ts] = await redis.hmget(key, 'tokens', 'ts');
  const state = tokens === null || ts === null ? undefined : { tokens: Number(tokens), ts: Number(ts) };
  return tokensAt(state, spec, now);
}

/** The arithmetic of {@link readTokens}: a take of nothing (bucket-math.ts). */
export function tokensAt(state: { tokens: number; ts: number } | undefined, spec: BucketSpec, now: number): number {
  const valid = state && Number.isFinite(state.tokens) && Number.isFinite(state.ts) ? state : undefined;
  return takeAllAt([{ spec, state: valid }], 0, now).states[0]?.tokens ?? spec.capacity;
}
