import type { HostnameFacts, NameState } from '@certfleet/store';
import { indexStatus } from '@certfleet/store';
import { describe, expect, it } from 'vitest';
import { BUDGET_PROBLEM_TYPE, describeFrom } from './describe.js';
import { certificate, T0 } from './fakes.js';

const DAY = 86_400_000;
const name = 'shop.example.com';
const record = { name, customMetadata: { plan: 'pro' }, upstream: null, createdAt: T0 - DAY, updatedAt: T0 - DAY, deletedAt: null };
const state = (change: Partial<NameState>): NameState => ({
  state: 'issuing',
  attempts: 1,
  failures: 0,
  lastError: undefined,
  lastErrorAt: undefined,
  coolUntil: undefined,
  ca: 'le',
  updatedAt: T0,
  ...change,
});
const facts = (change: Partial<HostnameFacts>): HostnameFacts => ({
  name,
  record,
  allowedBy: name,
  state: null,
  certificate: null,
  renewAt: null,
  validationErrors: [],
  hold: null,
  route: null,
  ...change,
});
const statusOf = (change: Partial<HostnameFacts>) => describeFrom(facts(change), T0);

describe('describeFrom', () => {
  it('says pending, then issuing, while no certificate was ever stored', () => {
    expect(statusOf({})).toMatchObject({ status: 'pending', certificate: { status: 'none', key_types: [] } });
    expect(statusOf({ state: state({}) })).toMatchObject({ status: 'pending', certificate: { status: 'issuing' } });
  });

  it('says active with the certificate, renewing while a renewal runs, and lists both key types when an RSA twin is served', () => {
    const cert = { ...certificate(name, T0 + 30 * DAY), rsaSerial: 'CD01' };
    const object = statusOf({ certificate: cert, renewAt: T0 + 10 * DAY });
    expect(object).toMatchObject({
      status: 'active',
      certificate: {
        status: 'active',
        serial: cert.serial,
        not_after: new Date(T0 + 30 * DAY).toISOString(),
        key_types: ['ecdsa', 'rsa'],
        renewal_at: new Date(T0 + 10 * DAY).toISOString(),
        last_renewed_at: new Date(cert.issuedAt).toISOString(),
      },
    });
    expect(statusOf({ certificate: cert, state: state({ state: 'issuing' }) })?.certificate.status).toBe('renewing');
  });

  it('says failed with the cool-down while cooling, and after an expired certificate that was not renewed', () => {
    const cooling = state({ state: 'cooling', coolUntil: T0 + 60_000, failures: 1 });
    expect(statusOf({ state: cooling })).toMatchObject({ status: 'failed', cooldown_until: new Date(T0 + 60_000).toISOString() });
    const expired = certificate(name, T0 - 1);
    expect(statusOf({ certificate: expired, state: cooling })).toMatchObject({ status: 'failed', certificate: { status: 'expired' } });
    expect(statusOf({ certificate: expired })).toMatchObject({ status: 'pending', certificate: { status: 'expired' } });
  });

  it('says retired for a deleted hostname, with its certificate still shown until it expires', () => {
    const cert = { ...certificate(name, T0 + 30 * DAY), retiredAt: T0 };
    expect(statusOf({ record: { ...record, deletedAt: T0 }, certificate: cert })).toMatchObject({
      status: 'retired',
      certificate: { serial: cert.serial, renewal_at: null },
    });
  });

  it('shows a budget hold as the hold and as a certfleet:budget validation error, before the failed validations', () => {
    const object = statusOf({
      hold: { budget: 'le: domain:example.com', until: T0 + 3_600_000, at: T0 - 1_000 },
      validationErrors: [{ at: T0 - 5_000, type: 'urn:ietf:params:acme:error:connection', detail: 'the CA reached 203.0.113.9' }],
    });
    expect(object?.hold).toEqual({ budget: 'le: domain:example.com', until: new Date(T0 + 3_600_000).toISOString() });
    expect(object?.validation_errors.map((e) => e.type)).toEqual([BUDGET_PROBLEM_TYPE, 'urn:ietf:params:acme:error:connection']);
    expect(object?.validation_errors[0]?.detail).toMatch(/le: domain:example\.com is spent; the order waits until/);
  });

  it('knows nothing of a name that is not registered, not allowed, and has no certificate or state', () => {
    expect(statusOf({ record: null, allowedBy: null })).toBeNull();
    expect(statusOf({ record: null, allowedBy: '*.example.com' })).toMatchObject({ status: 'pending', created_at: null });
  });

  it('agrees with the status index for every combination the index can see', () => {
    const cert = certificate(name, T0 + DAY);
    for (const deleted of [false, true]) {
      for (const withCert of [false, true]) {
        for (const s of [null, 'issuing', 'active', 'cooling', 'failed'] as const) {
          const object = statusOf({
            record: { ...record, deletedAt: deleted ? T0 : null },
            certificate: withCert ? cert : null,
            state: s ? state({ state: s }) : null,
          });
          expect(object?.status, `${deleted} ${withCert} ${s}`).toBe(indexStatus({ deleted, certificate: withCert, state: s }));
        }
      }
    }
  });
});
