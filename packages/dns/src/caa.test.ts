import { describe, expect, it } from 'vitest';
import { caaPermits } from './caa.js';

const LE = ['letsencrypt.org'];
const issue = (value: string, flags = 0) => ({ flags, tag: 'issue', value });

describe('caaPermits', () => {
  it('permits any CA when there are no CAA records', () => {
    expect(caaPermits([], LE)).toEqual({ permitted: true, reason: 'no CAA records: any CA may issue' });
  });

  it('permits when an issue record names the CA', () => {
    expect(caaPermits([issue('letsencrypt.org')], LE, 'shop.example')).toEqual({
      permitted: true,
      reason: 'CAA at shop.example allows "letsencrypt.org"',
    });
  });

  it('forbids when issue records name only other CAs, and names them', () => {
    const verdict = caaPermits([issue('othercat.example'), issue('pki.goog')], LE, 'shop.example');
    expect(verdict.permitted).toBe(false);
    expect(verdict.reason).toContain('CAA at shop.example allows only "othercat.example", "pki.goog", not "letsencrypt.org"');
  });

  it('forbids every CA on issue ";"', () => {
    const verdict = caaPermits([issue(';')], LE, 'shop.example');
    expect(verdict.permitted).toBe(false);
    expect(verdict.reason).toContain('forbids issuance by every CA (0 issue ";")');
  });

  it('treats issue records as a set: issue ";" does not cancel a record naming the CA', () => {
    expect(caaPermits([issue(';'), issue('letsencrypt.org')], LE).permitted).toBe(true);
  });

  it('matches the issuer domain case-insensitively, ignoring spaces, a trailing dot and parameters', () => {
    expect(caaPermits([issue('  LetsEncrypt.ORG. ; accounturi=https://acme.example/acct/1')], LE).permitted).toBe(true);
  });

  it('matches tags case-insensitively', () => {
    expect(caaPermits([{ flags: 0, tag: 'ISSUE', value: 'othercat.example' }], LE).permitted).toBe(false);
  });

  it('ignores issuewild and iodef for a non-wildcard name', () => {
    const records = [
      { flags: 0, tag: 'issuewild', value: ';' },
      { flags: 128, tag: 'iodef', value: 'mailto:security@shop.example' },
    ];
    const verdict = caaPermits(records, LE, 'shop.example');
    expect(verdict.permitted).toBe(true);
    expect(verdict.reason).toContain('has no issue records');
  });

  it('forbids on a critical record with an unknown tag, even next to a permitting record', () => {
    const verdict = caaPermits([issue('letsencrypt.org'), { flags: 128, tag: 'tbs', value: 'x' }], LE, 'shop.example');
    expect(verdict.permitted).toBe(false);
    expect(verdict.reason).toContain('critical record with an unknown tag (128 tbs "x")');
  });

  it('ignores a non-critical record with an unknown tag', () => {
    expect(caaPermits([{ flags: 0, tag: 'contactemail', value: 'a@b.example' }], LE).permitted).toBe(true);
  });

  it('treats a malformed issuer domain as naming no CA', () => {
    const verdict = caaPermits([issue('letsencrypt.org extra')], LE);
    expect(verdict.permitted).toBe(false);
    expect(verdict.reason).toContain('forbids issuance by every CA');
  });

  it('accepts any of several CA identities', () => {
    expect(caaPermits([issue('pki.goog')], ['letsencrypt.org', 'pki.goog']).permitted).toBe(true);
  });
});
