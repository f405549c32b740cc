import { describe, expect, it } from 'vitest';
import { type BucketState, refundAt, takeAllAt } from './bucket-math.js';
import type { BudgetClaim, TakeAllResult } from './multi-take.js';
import { groupByHashTag, hashTagOf, takeInSequence, type GroupOperations } from './take-sequence.js';

const T0 = 1_700_000_000_000;

/** Buckets in memory, each group taken and refunded with the pure arithmetic at the clock's time. */
function memoryBuckets(states: Map<string, BucketState | undefined>, clock: () => number, count: number) {
  const log: string[] = [];
  const operations: GroupOperations = {
    async take(group) {
      const outcome = takeAllAt(
        group.map((c) => ({ spec: c.spec, floor: c.floor, state: states.get(c.key) })),
        count,
        clock(),
      );
      for (const [i, claim] of group.entries()) states.set(claim.key, outcome.states[i]);
      log.push(`take ${group.map((c) => c.key).join(',')} ${outcome.granted ? 'granted' : 'refused'}`);
      const refusedBy = outcome.refusedIndex === undefined ? undefined : group[outcome.refusedIndex];
      return { granted: outcome.granted, retryAfterMs: outcome.waitMs, refusedBy } satisfies TakeAllResult;
    },
    async refund(group) {
      const next = refundAt(
        group.map((c) => ({ spec: c.spec, state: states.get(c.key) })),
        count,
        clock(),
      );
      for (const [i, claim] of group.entries()) states.set(claim.key, next[i]);
      log.push(`refund ${group.map((c) => c.key).join(',')}`);
    },
  };
  return { operations, log };
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('hashTagOf', () => {
  it.each([
    ['p:cert:{shop.example}', 'shop.example'],
    ['p:bucket:{ca:first}:orders', 'ca:first'],
    ['p:bucket:new-names-fleet', 'p:bucket:new-names-fleet'],
    ['p:{}:x', 'p:{}:x'],
    ['p:{a}{b}', 'a'],
    ['p:{unclosed', 'p:{unclosed'],
  ])('hashes %j by %j, as Redis Cluster does', (key, tag) => expect(hashTagOf(key)).toBe(tag));
});

describe('groupByHashTag', () => {
  it('keeps claims of one tag together, in the order the tags first come', () => {
    const spec = { capacity: 1, refillIntervalMs: 1 };
    const claims = ['x:{b}:1', 'x:{a}:1', 'x:{b}:2', 'x:c'].map((key) => ({ key, spec }));
    expect(groupByHashTag(claims).map((g) => g.map((c) => c.key))).toEqual([['x:{b}:1', 'x:{b}:2'], ['x:{a}:1'], ['x:c']]);
  });
});

describe('takeInSequence', () => {
  const perClient: BudgetClaim = { key: 'p:bucket:new-names-ip:192.0.2.1', spec: { capacity: 3, refillIntervalMs: 1_000 } };
  const fleet: BudgetClaim = { key: 'p:bucket:new-names-fleet', spec: { capacity: 2, refillIntervalMs: 10_000 } };

  it('gives the first group its tokens back when a later group refuses', async () => {
    const states = new Map<string, BucketState | undefined>([[fleet.key, { tokens: 0, ts: T0 }]]);
    const { operations, log } = memoryBuckets(states, () => T0 + 4_000, 1);
    const result = await takeInSequence([[perClient], [fleet]], operations);
    expect(result).toEqual({ granted: false, retryAfterMs: 6_000, refusedBy: fleet });
    expect(log).toEqual([`take ${perClient.key} granted`, `take ${fleet.key} refused`, `refund ${perClient.key}`]);
    // As if never taken: full, its clock at the take's time.
    expect(states.get(perClient.key)).toEqual({ tokens: 3, ts: T0 + 4_000 });
  });

  it('asks no later group once one refuses', async () => {
    const states = new Map<string, BucketState | undefined>([[perClient.key, { tokens: 0, ts: T0 }]]);
    const { operations, log } = memoryBuckets(states, () => T0, 1);
    expect(await takeInSequence([[perClient], [fleet]], operations)).toMatchObject({ granted: false, refusedBy: perClient });
    expect(log).toEqual([`take ${perClient.key} refused`]);
    expect(states.has(fleet.key)).toBe(false);
  });

  it('gives back what was taken, latest first, and rethrows when a group fails', async () => {
    const states = new Map<string, BucketState | undefined>();
    const { operations, log } = memoryBuckets(states, () => T0, 1);
    const third: BudgetClaim = { key: 'p:bucket:third', spec: fleet.spec };
    const failing: GroupOperations = {
      take: (group) => (group[0] === third ? Promise.reject(new Error('connection lost')) : operations.take(group)),
      refund: operations.refund,
    };
    await expect(takeInSequence([[perClient], [fleet], [third]], failing)).rejects.toThrow('connection lost');
    expect(log.filter((line) => line.startsWith('refund'))).toEqual([`refund ${fleet.key}`, `refund ${perClient.key}`]);
    expect(states.get(perClient.key)?.tokens).toBe(3);
    expect(states.get(fleet.key)?.tokens).toBe(2);
  });

  it('answers as one all-or-nothing take would, and leaves the same tokens', async () => {
    const next = random(12);
    const claims: BudgetClaim[] = [
      { key: 'p:bucket:{ca:a}:orders', spec: { capacity: 5, refillIntervalMs: 700 }, floor: 1 },
      { key: 'p:bucket:{ca:a}:domain:example.com', spec: { capacity: 3, refillIntervalMs: 1_300 } },
      { key: 'p:bucket:new-names-ip:192.0.2.1', spec: { capacity: 4, refillIntervalMs: 500 } },
      { key: 'p:bucket:new-names-fleet', spec: { capacity: 6, refillIntervalMs: 900 }, floor: 2 },
    ];
    const groups = groupByHashTag(claims);
    expect(groups).toHaveLength(3);
    // Any state a bucket may be in: missing, empty to full, part-way through a refill, a clock ahead.
    const anyState = (claim: BudgetClaim): BucketState | undefined => {
      if (next() < 0.1) return undefined;
      const { capacity, refillIntervalMs } = claim.spec;
      return { tokens: Math.floor(next() * (capacity + 1)), ts: T0 - Math.floor((next() * 3 - 0.2) * refillIntervalMs) };
    };
    const outcomes = { granted: 0, refused: 0 };
    for (let round = 0; round < 1_000; round += 1) {
      const before = new Map(claims.map((c) => [c.key, anyState(c)]));
      const count = 1 + Math.floor(next() * 2);
      const expected = takeAllAt(
        claims.map((c) => ({ spec: c.spec, floor: c.floor, state: before.get(c.key) })),
        count,
        T0,
      );
      const states = new Map(before);
      const { operations, log } = memoryBuckets(states, () => T0, count);
      const result = await takeInSequence(groups, operations);
      const context = `round ${round}: ${JSON.stringify([...before])}, count ${count}`;
      expect(result.granted, context).toBe(expected.granted);
      expect(result.refusedBy, context).toBe(expected.refusedIndex === undefined ? undefined : claims[expected.refusedIndex]);
      // The refusing group's wait: never longer than the one script's (which counts every bucket).
      expect(result.retryAfterMs, context).toBeLessThanOrEqual(expected.waitMs);
      const reached = new Set(log.filter((line) => line.startsWith('take')).flatMap((line) => line.split(' ')[1]?.split(',') ?? []));
      for (const [i, claim] of claims.entries()) {
        const state = states.get(claim.key);
        // A bucket the sequence reached ends as the one script leaves it, refunded or not; one it
        // did not reach is not rewritten, its refill left for the next take to count.
        if (reached.has(claim.key)) expect(state, `${claim.key}, ${context}`).toEqual(expected.states[i]);
        else expect(takeAllAt([{ spec: claim.spec, state }], 0, T0).states[0], `${claim.key}, ${context}`).toEqual(expected.states[i]);
      }
      outcomes[result.granted ? 'granted' : 'refused'] += 1;
    }
    expect(outcomes.granted).toBeGreaterThan(100);
    expect(outcomes.refused).toBeGreaterThan(100);
  });
});

describe('refundAt', () => {
  const spec = { capacity: 4, refillIntervalMs: 1_000 };
  const states = [
    undefined,
    { tokens: 1, ts: T0 - 2_500 },
    { tokens: 3, ts: T0 - 999 },
    { tokens: 4, ts: T0 - 300 },
    { tokens: 2, ts: T0 + 5_000 },
  ];

  it('restores at the take’s own time exactly what the take found, refilled', () => {
    for (const state of states) {
      const found = takeAllAt([{ spec, state }], 0, T0).states;
      const taken = takeAllAt([{ spec, state }], 1, T0);
      expect(taken.granted).toBe(true);
      expect(refundAt([{ spec, state: taken.states[0] }], 1, T0)).toEqual(found);
    }
  });

  it('restores later what the buckets would hold had the take never happened', () => {
    // (A bucket the take created is full again, its clock at the take's time: as a take of 0 tokens would leave it.)
    for (const state of states.slice(1)) {
      for (const later of [1, 999, 1_000, 1_700, 2_000, 60_000]) {
        const untaken = takeAllAt([{ spec, state }], 0, T0 + later).states;
        const taken = takeAllAt([{ spec, state }], 1, T0);
        expect(refundAt([{ spec, state: taken.states[0] }], 1, T0 + later), `${JSON.stringify(state)} +${later}`).toEqual(untaken);
      }
    }
  });

  it('stops at the capacity', () => {
    expect(refundAt([{ spec, state: { tokens: 0, ts: T0 } }], 2, T0 + 1_500)).toEqual([{ tokens: 3, ts: T0 + 1_000 }]);
    expect(refundAt([{ spec, state: { tokens: 3, ts: T0 } }], 2, T0 + 500)).toEqual([{ tokens: 4, ts: T0 }]);
  });

  it('leaves a bucket that expired (full) alone', () => {
    expect(refundAt([{ spec, state: undefined }], 1, T0)).toEqual([undefined]);
  });
});
