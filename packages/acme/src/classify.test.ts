import { describe, expect, it } from 'vitest';
import { classifyAcmeFailure } from './classify.js';
import { AcmeProblemError, AcmeValidationError } from './problem.js';

const problem = (type: string, status: number, retryAfterMs?: number) =>
  new AcmeProblemError(`urn:ietf:params:acme:error:${type}`, status, 'detail', 'https://ca/x', retryAfterMs);

describe('classifyAcmeFailure', () => {
  it.each([
    [problem('rateLimited', 429, 20_000), 'rate-limited', 20_000],
    [problem('serverInternal', 503, 5_000), 'unavailable', 5_000],
    [problem('rejectedIdentifier', 400), 'permanent', undefined],
    [problem('caa', 403), 'permanent', undefined],
    [problem('malformed', 400), 'permanent', undefined],
    [problem('serverInternal', 500), 'transient', undefined],
    [new AcmeValidationError('a.example', 'connection refused'), 'validation', undefined],
    [new AcmeValidationError('a.example', '{"error":{"type":"urn:ietf:params:acme:error:caa"}}'), 'permanent', undefined],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:14000'), { code: 'ECONNREFUSED' }), 'unavailable', undefined],
    [new Error('timeout of 15000ms exceeded'), 'unavailable', undefined],
    [new Error('something odd'), 'transient', undefined],
  ])('%s -> %s', (error, kind, retryAfterMs) => {
    expect(classifyAcmeFailure(error)).toMatchObject({ kind, retryAfterMs });
  });
});
