import { parseDuration } from './duration.js';

/**
 * A token bucket: holds at most `capacity` tokens and gains one every `refillIntervalMs`.
 * In any window of W ms it grants at most capacity + W / refillIntervalMs tokens.
 */
export interface BucketSpec {
  capacity: number;
  refillIntervalMs: number;
}

const COUNT = /^\d+$/;

/**
 * Reads `CAPACITY/PERIOD` ("20/60s": 20 tokens, refilled at 20 per minute, so one every 3 s),
 * or `CAPACITY/PERIOD/REFILL` when the refill differs from the capacity ("300/3h/300" as
 * Let's Encrypt's orders; "20/1s/1": 20 tokens, one more per second). Throws a message that
 * says what was expected.
 */
export function parseBucketSpec(text: string): BucketSpec {
  const [capacityText = '', periodText = '', refillText, ...rest] = text.trim().split('/');
  // The period is a duration read as every other one is (duration.ts): 60s, 3h, 7d.
  const periodMs = parseDuration(periodText);
  if (!COUNT.test(capacityText) || periodMs === undefined || (refillText !== undefined && !COUNT.test(refillText)) || rest.length > 0) {
    throw new Error(`"${text}" is not a bucket: write CAPACITY/PERIOD such as 20/60s, or CAPACITY/PERIOD/REFILL such as 20/1s/1`);
  }
  const capacity = Number(capacityText);
  const refill = refillText === undefined ? capacity : Number(refillText);
  if (capacity < 1 || refill < 1 || periodMs < 1)
    throw new Error(`"${text}" is not a bucket: capacity, period and refill must be positive`);
  return { capacity, refillIntervalMs: periodMs / refill };
}

export function formatBucketSpec(spec: BucketSpec): string {
  return `${spec.capacity} tokens, one more every ${spec.refillIntervalMs} ms`;
}
