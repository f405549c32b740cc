import { describe, expect, it } from 'vitest';
import { type BucketState, type BucketTakeInput, takeAllAt } from './bucket-math.js';
import type { BucketSpec } from './bucket-spec.js';

const T0 = 1_700_000_000_000;
const threePerSecond: BucketSpec = { capacity: 3, refillIntervalMs: 1_000 };

/** One bucket's state carried from take to take, on a clock the test moves. */
function bucket(spec: BucketSpec, floor = 0) {
  let state: BucketState | undefined;
  return {
    input: (): BucketTakeInput => ({ spec, floor, state }),
    keep: (next: BucketState | undefined) => {
      state = next;
    },
    get state() {
      return state;
    },
  };
}

function take(buckets: ReturnType<typeof bucket>[], now: number, count = 1) {
  const outcome = takeAllAt(
    buckets.map((b) => b.input()),
    count,
    now,
  );
  for (const [i, b] of buckets.entries()) b.keep(outcome.states[i]);
  return outcome;
}

describe('takeAllAt', () => {
  it('starts a bucket full with its clock at now', () => {
    const b = bucket(threePerSecond);
    const outcome = take([b], T0);
    expect(outcome).toMatchObject({ granted: true, waitMs: 0, refusedIndex: undefined });
    expect(b.state).toEqual({ tokens: 2, ts: T0 });
  });

  it('grants the capacity at once, then refuses with the wait for one token', () => {
    const b = bucket(threePerSecond);
    for (let i = 0; i < 3; i++) expect(take([b], T0).granted).toBe(true);
    expect(take([b], T0 + 400)).toMatchObject({ granted: false, waitMs: 600, refusedIndex: 0 });
    expect(b.state).toEqual({ tokens: 0, ts: T0 });
  });

  it('refills one token per whole interval and keeps the part of an interval already run', () => {
    const b = bucket(threePerSecond);
    take([b], T0, 3);
    expect(take([b], T0 + 2_500).granted).toBe(true);
    // Two intervals counted: the clock moves by exactly two, the half interval is kept.
    expect(b.state).toEqual({ tokens: 1, ts: T0 + 2_000 });
    expect(take([b], T0 + 2_999).granted).toBe(true);
    expect(b.state).toEqual({ tokens: 0, ts: T0 + 2_000 });
    expect(take([b], T0 + 3_000).granted).toBe(true);
    expect(b.state).toEqual({ tokens: 0, ts: T0 + 3_000 });
  });

  it('caps the refill at the capacity and moves the clock to now when full', () => {
    const b = bucket(threePerSecond);
    take([b], T0, 3);
    expect(take([b], T0 + 60_500, 0).granted).toBe(true);
    expect(b.state).toEqual({ tokens: 3, ts: T0 + 60_500 });
  });

  it('cuts tokens above a capacity that shrank', () => {
    const outcome = takeAllAt([{ spec: threePerSecond, state: { tokens: 10, ts: T0 } }], 1, T0);
    expect(outcome.states[0]).toEqual({ tokens: 2, ts: T0 });
  });

  it('refills nothing when the stored clock is ahead of now', () => {
    const outcome = takeAllAt([{ spec: threePerSecond, state: { tokens: 0, ts: T0 + 5_000 } }], 1, T0);
    expect(outcome).toMatchObject({ granted: false, refusedIndex: 0, states: [{ tokens: 0, ts: T0 + 5_000 }] });
    // need * interval - (now - ts): the wait counts the clock's lead too.
    expect(outcome.waitMs).toBe(6_000);
  });

  it('keeps the floor for others and waits until count tokens are above it', () => {
    const b = bucket({ capacity: 10, refillIntervalMs: 100 }, 4);
    expect(take([b], T0, 6).granted).toBe(true);
    expect(take([b], T0 + 50)).toMatchObject({ granted: false, waitMs: 50, refusedIndex: 0 });
    expect(take([b], T0 + 100).granted).toBe(true);
    expect(b.state).toEqual({ tokens: 4, ts: T0 + 100 });
  });

  it('takes from every bucket or from none, and names the first that refused', () => {
    const roomy = bucket({ capacity: 100, refillIntervalMs: 1_000 });
    const tight = bucket({ capacity: 1, refillIntervalMs: 10_000 });
    const tighter = bucket({ capacity: 1, refillIntervalMs: 30_000 });
    expect(take([roomy, tight, tighter], T0).granted).toBe(true);
    const refused = take([roomy, tight, tighter], T0 + 1_000);
    expect(refused).toMatchObject({ granted: false, refusedIndex: 1 });
    // The longest wait of all refusing buckets: the 30 s one, less the second already run.
    expect(refused.waitMs).toBe(29_000);
    // Refused: the roomy bucket kept its tokens, its refill written back all the same.
    expect(roomy.state).toEqual({ tokens: 100, ts: T0 + 1_000 });
  });

  it('refuses a count larger than the capacity with the wait the arithmetic gives', () => {
    expect(takeAllAt([{ spec: threePerSecond, state: undefined }], 5, T0)).toMatchObject({ granted: false, waitMs: 2_000 });
  });

  it('rounds waits up to a whole millisecond with fractional intervals', () => {
    const spec = { capacity: 3, refillIntervalMs: 1_000 / 3 };
    const outcome = takeAllAt([{ spec, state: { tokens: 0, ts: T0 } }], 1, T0 + 100);
    expect(outcome.waitMs).toBe(Math.ceil(1_000 / 3 - 100));
  });

  it('lets a key live until its bucket would be full again, plus a second', () => {
    const outcome = takeAllAt([{ spec: threePerSecond, state: undefined }], 2, T0);
    expect(outcome.expireMs).toEqual([2 * 1_000 + 1_000]);
  });

  it('grants an empty claim list', () => {
    expect(takeAllAt([], 1, T0)).toMatchObject({ granted: true, waitMs: 0, states: [] });
  });
});
