import { describe, expect, it } from 'vitest';
import { clampRetryAfter, pickRenewalTime } from './ari.js';

describe('pickRenewalTime', () => {
  const cert = { notBefore: 0, notAfter: 1_000_000 };
  it('picks uniformly inside the window', () => {
    expect(pickRenewalTime({ start: 500_000, end: 700_000 }, cert, 0, () => 0)).toBe(500_000);
    expect(pickRenewalTime({ start: 500_000, end: 700_000 }, cert, 0, () => 0.5)).toBe(600_000);
  });
  it('never picks the past, nor the last tenth of the life', () => {
    expect(pickRenewalTime({ start: -1e9, end: 2e9 }, cert, 300_000, () => 0)).toBe(300_000);
    expect(pickRenewalTime({ start: -1e9, end: 2e9 }, cert, 300_000, () => 0.999999)).toBeLessThanOrEqual(900_000);
  });
  it('renews now when the window has ended', () => {
    expect(pickRenewalTime({ start: 0, end: 100 }, cert, 500, () => 0.5)).toBe(500);
  });
});

describe('clampRetryAfter', () => {
  it('keeps polls between a minute and a day', () => {
    expect(clampRetryAfter(1_000)).toBe(60_000);
    expect(clampRetryAfter(10 * 86_400_000)).toBe(86_400_000);
    expect(clampRetryAfter(21_600_000)).toBe(21_600_000);
    expect(clampRetryAfter(1_000, 5_000)).toBe(5_000);
    expect(clampRetryAfter(undefined, 5_000)).toBe(21_600_000);
  });
});
