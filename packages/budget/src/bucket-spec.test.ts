import { describe, expect, it } from 'vitest';
import { parseBucketSpec } from './bucket-spec.js';

describe('parseBucketSpec', () => {
  it('reads CAPACITY/PERIOD', () => expect(parseBucketSpec('20/60s')).toEqual({ capacity: 20, refillIntervalMs: 3_000 }));
  it("reads Let's Encrypt's order limit", () => expect(parseBucketSpec('300/3h')).toEqual({ capacity: 300, refillIntervalMs: 36_000 }));
  it('reads a separate refill', () => expect(parseBucketSpec('3/5s/1')).toEqual({ capacity: 3, refillIntervalMs: 5_000 }));
  it.each(['', '20', '20/', 'x/1s', '0/1s', '5/0s', '5/1y'])('refuses %j with the expected form', (text) => {
    expect(() => parseBucketSpec(text)).toThrow(/CAPACITY\/PERIOD|positive/);
  });
});
