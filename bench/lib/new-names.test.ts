import { describe, expect, it } from 'vitest';
import { percentile, summariseFirstRequests } from './new-names.js';

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const values = Array.from({ length: 20 }, (_, i) => 20 - i); // 20..1, unsorted
    expect(percentile(values, 0.5)).toBe(10);
    expect(percentile(values, 0.9)).toBe(18);
    expect(percentile(values, 1)).toBe(20);
    expect(percentile([], 0.5)).toBeNaN();
  });
});

describe('summariseFirstRequests', () => {
  it('counts real certificates and groups failures by reason', () => {
    const summary = summariseFirstRequests([
      { name: 'a', ms: 100, real: true },
      { name: 'b', ms: 300, real: false, error: 'self-signed certificate' },
      { name: 'c', ms: 200, real: false, error: 'self-signed certificate' },
      { name: 'd', ms: 4000, real: false, error: 'tlsv1 alert internal error' },
    ]);
    expect(summary).toEqual({
      names: 4,
      real: 1,
      p50Ms: 200,
      p90Ms: 4000,
      maxMs: 4000,
      failures: { 'self-signed certificate': 2, 'tlsv1 alert internal error': 1 },
    });
  });
});
