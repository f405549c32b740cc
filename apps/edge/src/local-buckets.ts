import { LRUCache } from 'lru-cache';
import type { BucketSpec } from '@certfleet/budget';

interface BucketState {
  tokens: number;
  /** When `tokens` was last brought up to date (ms, the clock's). */
  at: number;
}

export interface LocalBucketsOptions {
  spec: BucketSpec;
  /** Keys kept at once; the least recently used is forgotten first, and comes back full. */
  maxKeys: number;
  clock?: () => number;
}

/**
 * Token buckets in this process's memory, one per key: the arithmetic of the fleet's buckets
 * in Redis (a token every `refillIntervalMs`, at most `capacity`), with no I/O, for the
 * handshake path. Synchronous, so concurrent handshakes cannot both take the last token.
 */
export class LocalBuckets {
  private readonly buckets: LRUCache<string, BucketState>;
  private readonly clock: () => number;

  constructor(private readonly options: LocalBucketsOptions) {
    this.buckets = new LRUCache<string, BucketState>({ max: options.maxKeys });
    this.clock = options.clock ?? Date.now;
  }

  /** Takes a token from `key`'s bucket; false (and nothing taken) when it is empty. */
  take(key: string): boolean {
    const bucket = this.current(key);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Whether `key`'s bucket holds a token now; takes none. */
  has(key: string): boolean {
    return (this.buckets.has(key) ? this.current(key).tokens : this.options.spec.capacity) >= 1;
  }

  private current(key: string): BucketState {
    const { capacity, refillIntervalMs } = this.options.spec;
    const now = this.clock();
    const bucket = this.buckets.get(key);
    if (!bucket) {
      const fresh = { tokens: capacity, at: now };
      this.buckets.set(key, fresh);
      return fresh;
    }
    const refills = Math.floor((now - bucket.at) / refillIntervalMs);
    if (refills > 0) {
      bucket.tokens = Math.min(capacity, bucket.tokens + refills);
      // A full bucket starts its next interval now; a partial one keeps its fractional progress.
      bucket.at = bucket.tokens === capacity ? now : bucket.at + refills * refillIntervalMs;
    }
    return bucket;
  }
}
