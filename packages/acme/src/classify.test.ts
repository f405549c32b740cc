import { AxiosError } from 'axios';
import { describe, expect, it } from 'vitest';
import { classifyAcmeFailure } from './classify.js';
import { AcmeProblemError, AcmeValidationError, authorizationProblems } from './problem.js';

const problem = (type: string, status: number, retryAfterMs?: number) =>
  new AcmeProblemError(`urn:ietf:params:acme:error:${type}`, status, 'detail', 'https://ca/x', retryAfterMs);

/**
 * A failed validation as account.ts reports it: the CA's problems read from the invalid
 * authorization (asked again after acme-client's wait failed), as Pebble and Boulder answer it.
 */
function failedValidation(problemType: string | undefined, detail = 'the CA says no') {
  const authorization = {
    identifier: { type: 'dns', value: 'a.example' },
    status: 'invalid',
    expires: '2027-01-08T00:00:00Z',
    challenges: [
      {
        type: 'http-01',
        url: 'https://ca/chalZ/1',
        token: 'tok',
        status: 'invalid',
        ...(problemType ? { error: { type: `urn:ietf:params:acme:error:${problemType}`, detail, status: 403 } } : {}),
      },
      { type: 'dns-01', url: 'https://ca/chalZ/2', token: 'tok', status: 'pending' },
    ],
  };
  const cause = new Error(JSON.stringify(authorization));
  return new AcmeValidationError('a.example', detail, { cause, problems: authorizationProblems(authorization) });
}

describe('classifyAcmeFailure', () => {
  it.each([
    [problem('rateLimited', 429, 20_000), 'rate-limited', 20_000],
    [problem('rateLimited', 400), 'rate-limited', undefined],
    [problem('serverInternal', 503, 5_000), 'unavailable', 5_000],
    [problem('rejectedIdentifier', 400), 'permanent', undefined],
    [problem('caa', 403), 'permanent', undefined],
    [problem('malformed', 400), 'permanent', undefined],
    [problem('serverInternal', 500), 'transient', undefined],
    [failedValidation('connection'), 'validation', undefined],
    [failedValidation('unauthorized'), 'validation', undefined],
    [failedValidation('caa'), 'permanent', undefined],
    [failedValidation('rejectedIdentifier'), 'permanent', undefined],
    [new AcmeValidationError('a.example', 'the CA offered no http-01 challenge (offered: dns-01)'), 'validation', undefined],
    [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:14000 (POST https://ca/x)'), { code: 'ECONNREFUSED' }),
      'unavailable',
      undefined,
    ],
    [new AxiosError('timeout of 15000ms exceeded', AxiosError.ECONNABORTED), 'unavailable', undefined],
    [new AxiosError('Network Error', AxiosError.ERR_NETWORK), 'unavailable', undefined],
    [new Error('something odd'), 'transient', undefined],
  ])('%s -> %s', (error, kind, retryAfterMs) => {
    expect(classifyAcmeFailure(error)).toMatchObject({ kind, retryAfterMs });
  });

  it('reads problem types, never message text: a detail that quotes a permanent type is still a validation failure', () => {
    const quoted = failedValidation('connection', 'urn:ietf:params:acme:error:caa mentioned in passing');
    expect(classifyAcmeFailure(quoted).kind).toBe('validation');
    expect(classifyAcmeFailure(new AcmeValidationError('a.example', 'urn:ietf:params:acme:error:caa')).kind).toBe('validation');
  });

  it('reads network failures by their code, not by words in the message', () => {
    expect(classifyAcmeFailure(new Error('socket timeout while reading the network')).kind).toBe('transient');
    expect(classifyAcmeFailure(Object.assign(new Error('boom'), { code: 'ECONNRESET' })).kind).toBe('unavailable');
  });

  it('reads the problems of an authorization field by field, ignoring what is not a problem', () => {
    expect(
      authorizationProblems({
        error: { type: 'urn:ietf:params:acme:error:unauthorized', detail: 'no', status: 403 },
        challenges: [{ error: { type: 'urn:ietf:params:acme:error:dns', detail: 7 } }, { error: 'text' }, null, {}],
      }),
    ).toEqual([
      { type: 'urn:ietf:params:acme:error:unauthorized', detail: 'no', status: 403 },
      { type: 'urn:ietf:params:acme:error:dns', detail: undefined, status: undefined },
    ]);
    expect(authorizationProblems(undefined)).toEqual([]);
    expect(authorizationProblems('{"error":{"type":"x"}}')).toEqual([]);
  });
});
