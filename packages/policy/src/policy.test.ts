import { describe, expect, it } from 'vitest';
import { cachedPolicy, type DomainPolicy } from './policy.js';

describe('cachedPolicy', () => {
  it('asks the inner policy once for concurrent and repeated questions about one name', async () => {
    let asked = 0;
    const inner: DomainPolicy = {
      decide: async () => {
        asked += 1;
        return { allowed: false, policy: 'test', reason: 'no' };
      },
    };
    const policy = cachedPolicy(inner, { allowTtlMs: 60_000, denyTtlMs: 60_000, max: 100 });
    await Promise.all(Array.from({ length: 10 }, () => policy.decide('scan.example')));
    await policy.decide('scan.example');
    expect(asked).toBe(1);
  });
});
