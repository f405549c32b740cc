import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { NameState } from '@certfleet/store';
import { alreadyValid, readIssueJob, refuseBlockedName } from './check.js';
import { DAY_MS, T0, storedCertificate } from './fakes.js';

const state = (change: Partial<NameState>): NameState => ({
  state: 'active',
  attempts: 1,
  failures: 0,
  lastError: undefined,
  lastErrorAt: undefined,
  coolUntil: undefined,
  ca: undefined,
  updatedAt: T0,
  ...change,
});

describe('readIssueJob', () => {
  it('reads a job for a normalised host name', () => {
    expect(readIssueJob({ id: '1', data: { name: 'shop.example', reason: 'visitor', requestedAt: T0 } })).toEqual({
      name: 'shop.example',
      reason: 'visitor',
      requestedAt: T0,
    });
  });

  it.each(['Shop.Example', 'bad_name!.example', '-x.example'])('fails a job for %s for good: no attempt can fix its payload', (name) => {
    expect(() => readIssueJob({ id: '1', data: { name, reason: 'visitor', requestedAt: T0 } })).toThrow(UnrecoverableError);
  });
});

describe('alreadyValid', () => {
  const existing = storedCertificate('shop.example', T0, { serial: 'AB', renewAt: T0 + 60 * DAY_MS });

  it('answers a visitor from an unexpired stored certificate (idempotent issuance)', () => {
    expect(alreadyValid(existing, 'visitor', T0 + DAY_MS, 1 / 3)).toEqual({
      outcome: 'already-valid',
      serial: 'AB',
      notAfter: existing.notAfter,
    });
  });

  it('answers a renewal that is not due yet from the store', () => {
    expect(alreadyValid(existing, 'renewal', T0 + 59 * DAY_MS, 1 / 3)?.outcome).toBe('already-valid');
  });

  it('orders a renewal that is due (at the point scheduled at issuance)', () => {
    expect(alreadyValid(existing, 'renewal', T0 + 60 * DAY_MS, 1 / 3)).toBeUndefined();
  });

  it('falls back to our own renewal point for a certificate stored without one', () => {
    const old = storedCertificate('shop.example', T0);
    expect(alreadyValid(old, 'renewal', T0 + 30 * DAY_MS, 1 / 3)?.outcome).toBe('already-valid');
    expect(alreadyValid(old, 'renewal', T0 + 61 * DAY_MS, 1 / 3)).toBeUndefined();
  });

  it('orders when there is no certificate, or it expired', () => {
    expect(alreadyValid(null, 'visitor', T0, 1 / 3)).toBeUndefined();
    expect(alreadyValid(existing, 'visitor', existing.notAfter, 1 / 3)).toBeUndefined();
  });
});

describe('refuseBlockedName', () => {
  it('fails the job for good for a name that failed permanently, saying how to retry it', () => {
    expect(() => refuseBlockedName('shop.example', state({ state: 'failed', lastError: 'caa' }), T0)).toThrow(
      /certfleet domains retry shop\.example/,
    );
  });

  it('fails the job for good for a name cooling down after a failed validation', () => {
    const cooling = state({ state: 'cooling', coolUntil: T0 + 1 });
    expect(() => refuseBlockedName('shop.example', cooling, T0)).toThrow(UnrecoverableError);
    expect(() => refuseBlockedName('shop.example', cooling, T0)).toThrow(/cooling down/);
  });

  it('lets a name whose cool-down is over, or that has no state, be ordered', () => {
    expect(() => refuseBlockedName('shop.example', state({ state: 'cooling', coolUntil: T0 }), T0)).not.toThrow();
    expect(() => refuseBlockedName('shop.example', null, T0)).not.toThrow();
    expect(() => refuseBlockedName('shop.example', state({ state: 'active' }), T0)).not.toThrow();
  });
});
