import { describe, expect, it } from 'vitest';
import { LocalBuckets } from './local-buckets.js';

function buckets(capacity: number, refillIntervalMs: number, maxKeys = 100) {
  let now = 1_000_000;
  const local = new LocalBuckets({ spec: { capacity, refillIntervalMs }, maxKeys, clock: () => now });
  return { local, advance: (ms: number) => (now += ms) };
}

describe('LocalBuckets', () => {
  it('grants a key its capacity, then refuses until a token is back', () => {
    const { local, advance } = buckets(3, 1_000);
    expect([local.take('a'), local.take('a'), local.take('a'), local.take('a')]).toEqual([true, true, true, false]);
    advance(999);
    expect(local.take('a')).toBe(false);
    advance(1);
    expect(local.take('a')).toBe(true);
    expect(local.take('a')).toBe(false);
  });

  it('keeps keys apart', () => {
    const { local } = buckets(1, 1_000);
    expect(local.take('a')).toBe(true);
    expect(local.take('a')).toBe(false);
    expect(local.take('b')).toBe(true);
  });

  it('refills to capacity at most', () => {
    const { local, advance } = buckets(2, 1_000);
    local.take('a');
    advance(60_000);
    expect([local.take('a'), local.take('a'), local.take('a')]).toEqual([true, true, false]);
  });

  it('tells whether a key has a token without taking it', () => {
    const { local, advance } = buckets(1, 1_000);
    expect(local.has('a')).toBe(true);
    expect(local.has('a')).toBe(true);
    expect(local.take('a')).toBe(true);
    expect(local.has('a')).toBe(false);
    advance(1_000);
    expect(local.has('a')).toBe(true);
  });

  it('keeps at most maxKeys keys, the least recently used forgotten first', () => {
    const { local } = buckets(1, 60_000, 2);
    local.take('a');
    local.take('b');
    local.take('c');
    expect(local.take('b')).toBe(false);
    expect(local.take('a')).toBe(true);
  });
});
