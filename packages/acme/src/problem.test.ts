import { describe, expect, it } from 'vitest';
import { AcmeProblemError, parseRetryAfter } from './problem.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-27T12:00:00Z');
  it('reads delay-seconds', () => expect(parseRetryAfter('20', now)).toBe(20_000));
  it('reads an HTTP date', () => expect(parseRetryAfter('Fri, 27 Nov 2026 12:01:30 GMT', now)).toBe(90_000));
  it('never goes negative for a date in the past', () => expect(parseRetryAfter('Fri, 27 Nov 2026 11:00:00 GMT', now)).toBe(0));
  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});

describe('AcmeProblemError', () => {
  it('knows a rate limit by status or by type', () => {
    expect(new AcmeProblemError('urn:ietf:params:acme:error:rateLimited', 429, 'too many', 'u', 1).isRateLimited).toBe(true);
    expect(new AcmeProblemError('urn:ietf:params:acme:error:malformed', 400, 'bad', 'u', undefined).isRateLimited).toBe(false);
  });
});
