import { describe, expect, it } from 'vitest';
import { tokensAt } from './read-tokens.js';

const spec = { capacity: 300, refillIntervalMs: 36_000 };

describe('tokensAt', () => {
  it('reads a bucket never used as full', () => {
    expect(tokensAt(undefined, spec, 1_000)).toBe(300);
  });

  it('adds the whole intervals since the bucket was last counted, up to its capacity', () => {
    expect(tokensAt({ tokens: 10, ts: 0 }, spec, 36_000 * 5 + 1)).toBe(15);
    expect(tokensAt({ tokens: 10, ts: 0 }, spec, 36_000 * 1_000)).toBe(300);
  });

  it('cuts tokens above a capacity that shrank, and reads a garbled state as full', () => {
    expect(tokensAt({ tokens: 500, ts: 0 }, spec, 0)).toBe(300);
    expect(tokensAt({ tokens: Number.NaN, ts: 0 }, spec, 0)).toBe(300);
  });
});
