/**
 * A token bucket: holds at most `capacity` tokens and gains one every `refillIntervalMs`.
 * In any window of W ms it grants at most capacity + W / refillIntervalMs tokens.
 */
export interface BucketSpec {
  capacity: number;
  refillIntervalMs: number;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Reads `CAPACITY/PERIOD` ("20/60s": 20 tokens, refilled at 20 per minute, so one every 3 s),
 * or `CAPACITY/PERIOD/REFILL` when the refill differs from the capacity ("300/3h/300" as
 * Let's Encrypt's orders; "20/1s/1": 20 tokens, one more per second). Throws a message that
 * says what was expected.
 */
export function parseBucketSpec(text: string): BucketSpec {
  const match = /^(\d+)\/(\d+)(ms|s|m|h|d)(?:\/(\d+))?$/.exec(text.trim());
  if (!match) {
    throw new Error(`"${text}" is not a bucket: write CAPACITY/PERIOD such as 20/60s, or CAPACITY/PERIOD/REFILL such as 20/1s/1`);
  }
  const capacity = Number(match[1]);
  const periodMs = Number(match[2]) * (UNIT_MS[match[3] ?? 's'] ?? 1_000);
  const refill = match[4] === undefined ? capacity : Number(match[4]);
  if (capacity < 1 || refill < 1 || periodMs < 1)
    throw new Error(`"${text}" is not a bucket: capacity, period and refill must be positive`);
  return { capacity, refillIntervalMs: periodMs / refill };
}

export function formatBucketSpec(spec: BucketSpec): string {
  return `${spec.capacity} tokens, one more every ${spec.refillIntervalMs} ms`;
}
