import { DelayedError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { RENEWAL_SPREAD_MS, delayUntilACaCanOrder, jitter, retryDelayMs } from './delay.js';
import { T0, fakeIssuer, silentLogger } from './fakes.js';

describe('retryDelayMs', () => {
  it('waits for the soonest CA, give or take 10 %', () => {
    expect(retryDelayMs([30_000, 10_000], 'visitor', () => 0.5)).toBe(10_000);
    expect(retryDelayMs([10_000], 'visitor', () => 0)).toBe(9_000);
    expect(jitter(10_000, () => 0.999_999)).toBe(11_000);
  });

  it('never wakes a job sooner than a second', () => {
    expect(retryDelayMs([0], 'provision', () => 0.5)).toBe(1_000);
  });

  it('spreads renewals over a share of the spread, so a backlog does not wake up for each token together', () => {
    const draws = [0.5, 0.25];
    expect(retryDelayMs([10_000], 'renewal', () => draws.shift() ?? 0)).toBe(10_000 + RENEWAL_SPREAD_MS / 4);
  });
});

describe('delayUntilACaCanOrder', () => {
  const fakeJob = () => {
    const moves: { until: number; token: string | undefined }[] = [];
    return { moves, job: { moveToDelayed: async (until: number, token?: string) => void moves.push({ until, token }) } };
  };

  it("delays a visitor's job and tells edges to serve the fallback at once meanwhile", async () => {
    const { deps, store } = fakeIssuer();
    const { job, moves } = fakeJob();
    await expect(delayUntilACaCanOrder(job, 'tok', [20_000, 5_000], 'visitor', deps, silentLogger)).rejects.toBeInstanceOf(DelayedError);
    expect(moves).toEqual([{ until: T0 + 5_000, token: 'tok' }]);
    expect(store.issuanceBlocked()).toEqual({ until: T0 + 5_000, reason: 'no CA can take an order now' });
  });

  it("delays a renewal with the spread, without blocking edges' issuance", async () => {
    const { deps, store } = fakeIssuer();
    const { job, moves } = fakeJob();
    await expect(delayUntilACaCanOrder(job, 'tok', [5_000], 'renewal', deps, silentLogger)).rejects.toBeInstanceOf(DelayedError);
    expect(moves).toEqual([{ until: T0 + 5_000 + RENEWAL_SPREAD_MS / 2, token: 'tok' }]);
    expect(store.issuanceBlocked()).toBeUndefined();
  });
});
