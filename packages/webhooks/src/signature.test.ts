import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signPayload, verifySignature } from './signature.js';

const SECRET = 'whsec-a-secret-for-tests';
const BODY = '{"id":"evt_0123","type":"certificate.issued","data":{"hostname":"shop.example.com"}}';
const NOW = 1_780_000_000;

describe('webhook signatures', () => {
  it('signs t.body with HMAC-SHA256 in the Stripe form, as anyone can recompute it', () => {
    const header = signPayload(SECRET, BODY, NOW);
    const expected = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`).digest('hex');
    expect(header).toBe(`t=${NOW},v1=${expected}`);
  });

  it('verifies its own signature, from a string or from the raw bytes', () => {
    const header = signPayload(SECRET, BODY, NOW);
    expect(verifySignature(SECRET, header, BODY, 300, NOW)).toEqual({ valid: true, timestamp: NOW });
    expect(verifySignature(SECRET, header, Buffer.from(BODY), 300, NOW + 299)).toEqual({ valid: true, timestamp: NOW });
  });

  it('refuses a changed body, another secret, or a body parsed and serialised again', () => {
    const header = signPayload(SECRET, BODY, NOW);
    expect(verifySignature(SECRET, header, BODY.replace('shop', 'shap'), 300, NOW)).toMatchObject({ valid: false });
    expect(verifySignature('another-secret-entirely', header, BODY, 300, NOW)).toMatchObject({ valid: false });
    expect(verifySignature(SECRET, header, JSON.stringify(JSON.parse(BODY), null, 1), 300, NOW)).toMatchObject({ valid: false });
  });

  it('refuses a replay older than the tolerance, and a timestamp from the future beyond it', () => {
    const header = signPayload(SECRET, BODY, NOW);
    expect(verifySignature(SECRET, header, BODY, 300, NOW + 301)).toEqual({
      valid: false,
      reason: expect.stringMatching(/more than 300 s/),
    });
    expect(verifySignature(SECRET, header, BODY, 300, NOW - 301)).toMatchObject({ valid: false });
  });

  it('refuses a signed timestamp swapped for a fresh one', () => {
    const header = signPayload(SECRET, BODY, NOW).replace(`t=${NOW}`, `t=${NOW + 1000}`);
    expect(verifySignature(SECRET, header, BODY, 300, NOW + 1000)).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/no v1 signature matches/),
    });
  });

  it('accepts any one matching v1 among several (a secret being rotated) and ignores unknown schemes', () => {
    const good = signPayload(SECRET, BODY, NOW).split(',')[1];
    const other = signPayload('the-old-secret-of-last-week', BODY, NOW).split(',')[1];
    expect(verifySignature(SECRET, `t=${NOW},${other},v0=abc,${good}`, BODY, 300, NOW)).toMatchObject({ valid: true });
  });

  it.each([
    [undefined, /no Certfleet-Signature header/],
    ['', /no Certfleet-Signature header/],
    ['garbage', /no t=/],
    [`t=${NOW}`, /no v1=/],
    [`t=${NOW},v1=zz`, /no v1=/],
    [`t=${NOW},v1=${'a'.repeat(63)}`, /no v1=/],
    [`t=-5,v1=${'a'.repeat(64)}`, /no t=/],
    [`t=1e9,v1=${'a'.repeat(64)}`, /no t=/],
    [`t=${NOW},${'v1=0,'.repeat(400)}`, /longer than 1024/],
    [`=,=,,,t=,v1=`, /no t=/],
  ])('refuses the hostile header %j with a reason', (header, reason) => {
    expect(verifySignature(SECRET, header, BODY, 300, NOW)).toEqual({ valid: false, reason: expect.stringMatching(reason) });
  });
});
