import type { BucketSpec } from './bucket-spec.js';

/** One bucket as stored (a Redis hash: `tokens`, `ts`). */
export interface BucketState {
  tokens: number;
  /** The refill clock: the last whole refill interval counted (ms since epoch), or when the bucket was last full. */
  ts: number;
}

/** One bucket of an all-or-nothing take: its spec, its floor, and its state (undefined: never used, or expired). */
export interface BucketTakeInput {
  spec: BucketSpec;
  /** Tokens that must remain after the take (see BudgetClaim.floor). */
  floor?: number | undefined;
  state: BucketState | undefined;
}

export interface BucketTakeOutcome {
  granted: boolean;
  /** When refused: how long until every bucket could grant (ms); 0 when granted. */
  waitMs: number;
  /** When refused: the index of the first bucket that refused. */
  refusedIndex: number | undefined;
  /** Every bucket's state after the take (written back granted or not: the refill is kept). */
  states: BucketState[];
  /** How long each bucket's key lives after this take: until it would be full again, plus a second. */
  expireMs: number[];
}

/**
 * The token-bucket arithmetic of one all-or-nothing take at `now`, with no I/O. This is the
 * model of the Lua script in multi-take.ts, which is the atomic implementation and must agree
 * with it step for step (test/e2e/lua-scripts.test.ts compares the two):
 *
 * 1. A bucket with no state starts full, its clock at `now`; tokens above the capacity (the
 *    spec shrank) are cut to it.
 * 2. Refill: whole intervals since `ts` add a token each, up to the capacity. The clock moves
 *    on by those whole intervals (the part of an interval already run is kept), or to `now`
 *    when the bucket is full. A clock in the future (`now <= ts`) refills nothing.
 * 3. A bucket refuses when taking `count` would leave fewer than its floor; the wait is the
 *    longest any refusing bucket needs for `floor + count - tokens` more tokens, counted from
 *    its clock.
 * 4. Only when none refuses are `count` tokens taken from every bucket.
 */
export function takeAllAt(buckets: readonly BucketTakeInput[], count: number, now: number): BucketTakeOutcome {
  let waitMs = 0;
  let refusedIndex: number | undefined;
  const refilled = buckets.map((bucket, index) => {
    const { capacity, refillIntervalMs: interval } = bucket.spec;
    const floor = bucket.floor ?? 0;
    let tokens = bucket.state?.tokens ?? capacity;
    let ts = bucket.state?.ts ?? now;
    tokens = Math.min(capacity, tokens);
    if (now > ts) {
      const refill = Math.floor((now - ts) / interval);
      if (refill > 0) {
        tokens = Math.min(capacity, tokens + refill);
        ts = tokens === capacity ? now : ts + refill * interval;
      }
    }
    if (tokens - count < floor) {
      const need = floor + count - tokens;
      waitMs = Math.max(waitMs, Math.ceil(need * interval - (now - ts)));
      refusedIndex ??= index;
    }
    return { tokens, ts };
  });
  const granted = refusedIndex === undefined;
  const states = refilled.map(({ tokens, ts }) => ({ tokens: granted ? tokens - count : tokens, ts }));
  const expireMs = buckets.map(({ spec }, i) => Math.ceil((spec.capacity - (states[i]?.tokens ?? 0)) * spec.refillIntervalMs) + 1000);
  return { granted, waitMs: granted ? 0 : waitMs, refusedIndex, states, expireMs };
}

/** One bucket of a refund: its spec and its state (undefined: it expired, so it is full: nothing to give back). */
export interface BucketRefundInput {
  spec: BucketSpec;
  state: BucketState | undefined;
}

/**
 * The arithmetic of giving `count` tokens back, at `now`, to buckets a granted take drew on:
 * the tokens first (up to the capacity), then the refill of takeAllAt (step 2). With no other
 * take in between, the result is exactly the state the buckets would have had without the take,
 * whenever the refund comes: at the take's own `now`, the state it found (refilled). A bucket
 * with no state is left so: it expired, so it was full again.
 * The refund script in multi-take.ts is its Lua twin: change both together.
 */
export function refundAt(buckets: readonly BucketRefundInput[], count: number, now: number): (BucketState | undefined)[] {
  return buckets.map(({ spec, state }) => {
    if (!state) return undefined;
    const { capacity, refillIntervalMs: interval } = spec;
    let tokens = Math.min(capacity, state.tokens + count);
    let ts = state.ts;
    if (now > ts) {
      const refill = Math.floor((now - ts) / interval);
      if (refill > 0) {
        tokens = Math.min(capacity, tokens + refill);
        ts = tokens === capacity ? now : ts + refill * interval;
      }
    }
    return { tokens, ts };
  });
}
