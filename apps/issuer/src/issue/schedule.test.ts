import { describe, expect, it, vi } from 'vitest';
import { DAY_MS, T0, fakeAccount, fakeIssuer, silentLogger } from './fakes.js';
import { ARI_RETRY_AFTER_FAILURE_MS, scheduleByAri, scheduleByAriInBackground } from './schedule.js';

const name = 'shop.example';
const lifetime = { notBefore: T0, notAfter: T0 + 90 * DAY_MS };

describe('scheduleByAri', () => {
  it("moves the renewal into the CA's window and asks again when the CA says to", async () => {
    const { deps, store } = fakeIssuer();
    const window = { start: T0 + 60 * DAY_MS, end: T0 + 62 * DAY_MS, retryAfterMs: 6 * 3_600_000, explanationUrl: undefined };
    await scheduleByAri(fakeAccount({ window }).account, 'aki.serial', name, lifetime, T0, deps);
    // The fake random source draws 0.5: the middle of the window.
    expect(store.rescheduled.get(name)).toBe(T0 + 61 * DAY_MS);
    expect(store.ariPolls.get(name)).toBe(T0 + 6 * 3_600_000);
  });

  it('keeps our own renewal point when the CA suggests no window', async () => {
    const { deps, store } = fakeIssuer();
    await scheduleByAri(fakeAccount({ window: null }).account, 'aki.serial', name, lifetime, T0, deps);
    expect(store.rescheduled.size).toBe(0);
    expect(store.ariPolls.size).toBe(0);
  });
});

describe('scheduleByAriInBackground', () => {
  it('leaves a window that could not be read to the ARI poller, later', async () => {
    const { deps, store } = fakeIssuer();
    scheduleByAriInBackground(fakeAccount({ window: new Error('503') }).account, 'aki.serial', name, lifetime, T0, deps, silentLogger);
    await vi.waitFor(() => expect(store.ariPolls.get(name)).toBe(T0 + ARI_RETRY_AFTER_FAILURE_MS));
  });
});
