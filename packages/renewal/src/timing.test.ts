import { describe, expect, it } from 'vitest';
import { renewalTime } from './timing.js';

describe('renewalTime', () => {
  const day = 86_400_000;
  it('renews a 90-day certificate 30 days before expiry', () => {
    expect(renewalTime({ notBefore: 0, notAfter: 90 * day })).toBe(60 * day);
  });
  it('renews a certificate of less than ten days at half its lifetime', () => {
    expect(renewalTime({ notBefore: 1_000_000, notAfter: 1_120_000 })).toBe(1_060_000);
    expect(renewalTime({ notBefore: 0, notAfter: 160 * 3_600_000 })).toBe(80 * 3_600_000);
  });
  it('takes another fraction', () => {
    expect(renewalTime({ notBefore: 0, notAfter: 100 * day }, 0.5)).toBe(50 * day);
  });
  it('spreads names issued together over up to 5 % of the lifetime, earlier, always the same per name', () => {
    const times = Array.from({ length: 1000 }, (_, i) => renewalTime({ name: `n${i}.example.com`, notBefore: 0, notAfter: 90 * day }));
    expect(Math.max(...times)).toBeLessThanOrEqual(60 * day);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(60 * day - 4.5 * day);
    expect(new Set(times).size).toBeGreaterThan(990);
    expect(renewalTime({ name: 'n1.example.com', notBefore: 0, notAfter: 90 * day })).toBe(times[1]);
  });
});
