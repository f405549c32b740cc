import { describe, expect, it } from 'vitest';
import { AcmeProblemError, AcmeValidationError } from '@certfleet/acme';
import { budgetLabel, customerProblem, reachedAddress } from './customer-detail.js';

const connection = (detail: string) =>
  new AcmeValidationError('shop.example', detail, {
    problems: [{ type: 'urn:ietf:params:acme:error:connection', detail, status: 400 }],
  });

describe('customerProblem', () => {
  it('names the address the CA reached and says it is not ours when the fleet addresses are known', () => {
    const error = connection('203.0.113.9: Fetching http://shop.example/.well-known/acme-challenge/x: Connection refused');
    const problem = customerProblem('shop.example', error, { cnameTarget: 'edge.example.net', ips: ['198.51.100.1'] });
    expect(problem.type).toBe('urn:ietf:params:acme:error:connection');
    expect(problem.detail).toMatch(
      /^the CA reached 203\.0\.113\.9, which is not ours: point the CNAME of shop\.example at edge\.example\.net/,
    );
    expect(problem.detail).toContain('Connection refused');
  });

  it('says the address is ours but did not answer when it is one of the fleet addresses', () => {
    const problem = customerProblem('shop.example', connection('198.51.100.1: Timeout during connect'), { ips: ['198.51.100.1'] });
    expect(problem.detail).toMatch(
      /^the CA reached 198\.51\.100\.1, which is ours but did not answer the challenge: point shop\.example \(A\/AAAA\) at 198\.51\.100\.1/,
    );
  });

  it('names the address without judging it when no fleet address is configured', () => {
    const problem = customerProblem('shop.example', connection('dial tcp 127.0.0.2:5002: connect: connection refused'));
    expect(problem.detail).toMatch(
      /^the CA reached 127\.0\.0\.2, which did not answer the challenge: point shop\.example \(CNAME or A\/AAAA record\)/,
    );
  });

  it('explains DNS and CAA problems with what to change, and keeps the CA problem type', () => {
    const dns = new AcmeValidationError('shop.example', 'NXDOMAIN', {
      problems: [{ type: 'urn:ietf:params:acme:error:dns', detail: 'NXDOMAIN looking up A for shop.example', status: 400 }],
    });
    expect(customerProblem('shop.example', dns, { cnameTarget: 'edge.example.net' })).toEqual({
      type: 'urn:ietf:params:acme:error:dns',
      detail: expect.stringMatching(
        /^the CA could not look up shop\.example in DNS: point the CNAME of shop\.example at edge\.example\.net/,
      ),
    });
    const caa = new AcmeProblemError('urn:ietf:params:acme:error:caa', 403, 'CAA record forbids issuance', 'https://ca/order', undefined);
    expect(customerProblem('shop.example', caa).detail).toMatch(/CAA record on shop\.example or a parent forbids this CA/);
  });

  it('falls back to the error text when the CA gave no problem document', () => {
    expect(customerProblem('shop.example', new Error('boom'))).toEqual({
      type: 'urn:ietf:params:acme:error:unauthorized',
      detail: expect.stringContaining('boom'),
    });
  });
});

describe('reachedAddress', () => {
  it('reads an IPv4 or a bracketed IPv6 address, and nothing from a detail without one', () => {
    expect(reachedAddress('203.0.113.9: Fetching')).toBe('203.0.113.9');
    expect(reachedAddress('[2001:db8::1]:80: Fetching')).toBe('2001:db8::1');
    expect(reachedAddress('no address here')).toBeUndefined();
  });
});

describe('budgetLabel', () => {
  it('reads a CA budget key as CA and bucket', () => {
    expect(budgetLabel('certfleet:bucket:{ca:le}:domain:example.com')).toBe('le: domain:example.com');
    expect(budgetLabel('p:bucket:failed-authz:le:{shop.example}')).toBe('failed-authz:le:{shop.example}');
  });
});
