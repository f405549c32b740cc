import { describe, expect, it } from 'vitest';
import { summariseError } from './error-summary.js';

const authorization = JSON.stringify({
  identifier: { type: 'dns', value: 'shop.example.com' },
  status: 'invalid',
  expires: '2026-12-09T14:00:00Z',
  challenges: [
    {
      type: 'http-01',
      url: 'https://ca.example/chalZ/8f2d0b0a4d6c4c1e9a',
      token: 'dGhpcyBpcyBhIHRva2VuIHRoYXQgaXMgcXVpdGUgbG9uZw',
      status: 'invalid',
      error: {
        type: 'urn:ietf:params:acme:error:connection',
        detail: '203.0.113.9: Fetching http://shop.example.com/.well-known/acme-challenge/x: "Connection refused"',
        status: 400,
      },
    },
  ],
});

describe('summariseError', () => {
  it('shows the problem type and detail of an authorization given as raw JSON', () => {
    expect(summariseError(`the CA could not validate shop.example.com: ${authorization}`)).toBe(
      'the CA could not validate shop.example.com: connection: 203.0.113.9: Fetching http://shop.example.com/.well-known/acme-challenge/x: "Connection refused"',
    );
  });

  it('reads a detail that comes before its type, and a problem cut off in its detail', () => {
    const cut = `${'x'.repeat(10)} {"detail":"DNS problem: NXDOMAIN looking up A for shop","type":"urn:ietf:params:acme:error:dns"} {"type":"urn:ietf:params:acme:error:caa","detail":"CAA record forbids iss`;
    expect(summariseError(cut)).toBe('xxxxxxxxxx: caa: CAA record forbids iss; dns: DNS problem: NXDOMAIN looking up A for shop');
  });

  it('lists a problem given twice (authorization and challenge) once', () => {
    const problem = '{"type":"urn:ietf:params:acme:error:unauthorized","detail":"wrong key authorization"}';
    expect(summariseError(`failed: {"error":${problem},"challenges":[{"error":${problem}}]}`)).toBe(
      'failed: unauthorized: wrong key authorization',
    );
  });

  it.each([
    'connection refused',
    'the CA could not validate a.example: connection: refused',
    '{"not":"a problem"}',
    '',
    '{{{{"type":"urn:x"',
  ])('returns text without a problem unchanged: %s', (text) => {
    expect(summariseError(text)).toBe(text);
  });

  it('returns oversized hostile input without a whole problem unchanged (no backtracking blow-up: it would time out)', () => {
    const hostile = `{"type":"urn:x"${' '.repeat(50_000)}`.repeat(4);
    expect(summariseError(hostile)).toBe(hostile);
  });
});
