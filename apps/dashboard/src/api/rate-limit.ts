import type { BucketSpec } from '@certfleet/budget';

/**
 * Requests per API token, counted in this process (API_RATE_LIMIT). A token bucket per token id:
 * only the configured tokens get here (wrong ones are refused before), so the map holds at most
 * two entries. Each dashboard process counts on its own: behind a balancer over N of them, a
 * token may make up to N times the limit.
 */
export interface ApiRateLimit {
  /** Takes a token for `id`: 0 when granted, else how long until one is available (ms). */
  take(id: string): number;
}

export function createApiRateLimit(spec: BucketSpec, clock: () => number = Date.now): ApiRateLimit {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(id) {
      const now = clock();
      const bucket = buckets.get(id) ?? { tokens: spec.capacity, at: now };
      const refilled = Math.min(spec.capacity, bucket.tokens + (now - bucket.at) / spec.refillIntervalMs);
      if (refilled >= 1) {
        buckets.set(id, { tokens: refilled - 1, at: now });
        return 0;
      }
      buckets.set(id, { tokens: refilled, at: now });
      return Math.ceil((1 - refilled) * spec.refillIntervalMs);
    },
  };
}
