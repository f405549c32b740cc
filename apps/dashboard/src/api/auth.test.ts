import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createApiAuth, tokenId } from './auth.js';
import { createApiRateLimit } from './rate-limit.js';

const WRITE = 'write-token-0123456789';
const READ = 'read-token-0123456789';

describe('createApiAuth', () => {
  const auth = createApiAuth({ token: WRITE, readToken: READ });

  it('tells the read-write token from the read-only one, by an id that is not the token', () => {
    expect(auth(`Bearer ${WRITE}`)).toEqual({ access: 'write', tokenId: tokenId(WRITE) });
    expect(auth(`bearer ${READ}`)).toEqual({ access: 'read', tokenId: tokenId(READ) });
    expect(tokenId(WRITE)).toBe(createHash('sha256').update(WRITE).digest('hex').slice(0, 8));
    expect(tokenId(WRITE)).not.toContain(WRITE.slice(0, 4));
  });

  it('refuses an absent header, another scheme, a wrong or truncated token, and one with trailing bytes', () => {
    expect(auth(undefined)).toEqual({ refused: 'absent' });
    expect(auth('')).toEqual({ refused: 'absent' });
    for (const header of [
      `Basic ${Buffer.from(`x:${WRITE}`).toString('base64')}`,
      `Bearer ${WRITE.slice(0, -1)}`,
      `Bearer ${WRITE}x`,
      `Bearer ${WRITE} ${WRITE}`,
      'Bearer',
      `${WRITE}`,
    ]) {
      expect(auth(header), header).toEqual({ refused: 'wrong' });
    }
  });

  it('refuses everyone while API_TOKEN is unset, even the read token', () => {
    const off = createApiAuth({ token: undefined, readToken: READ });
    expect(off(`Bearer ${READ}`)).toEqual({ refused: 'unconfigured' });
    expect(off(undefined)).toEqual({ refused: 'unconfigured' });
  });
});

describe('createApiRateLimit', () => {
  it('grants the capacity at once, then one request per refill interval, per token', () => {
    const clock = { now: 0 };
    const limit = createApiRateLimit({ capacity: 3, refillIntervalMs: 1_000 }, () => clock.now);
    expect([limit.take('a'), limit.take('a'), limit.take('a')]).toEqual([0, 0, 0]);
    expect(limit.take('a')).toBe(1_000);
    expect(limit.take('b')).toBe(0);
    clock.now += 500;
    expect(limit.take('a')).toBe(500);
    clock.now += 500;
    expect(limit.take('a')).toBe(0);
  });
});
