import { describe, expect, it } from 'vitest';
import { renewalTime } from './timing.js';

describe('renewalTime', () => {
  const day = 86_400_000;
  it('renews a 90-day certificate 30 days before expiry', () => {
    expect(renewalTime({ notBefore: 0, notAfter: 90 * day })).toBe(60 * day);
  });
  it('renews a 2-minute certificate 40 s before expiry', () => {
    expect(renewalTime({ notBefore: 1_000_000, notAfter: 1_120_000 })).toBe(1_080_000);
  });
  it('takes another fraction', () => {
    expect(renewalTime({ notBefore: 0, notAfter: 100 }, 0.5)).toBe(50);
  });
});
