import { DelayedError, UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { AcmeProblemError, AcmeValidationError } from '@certfleet/acme';
import type { IssueReason } from '@certfleet/queue';
import { RENEWAL_SPREAD_MS } from './issue/delay.js';
import { DAY_MS, T0, fakeCa, fakeIssuer, storedCertificate } from './issue/fakes.js';
import { runIssueJob } from './issue-job.js';

const name = 'shop.example';

/** An issuer with CAs 'first' and 'second', the name allowed, and a job for it. */
function setup(options: { first?: Parameters<typeof fakeCa>[1]; second?: Parameters<typeof fakeCa>[1] } = {}) {
  const issuer = fakeIssuer();
  const first = fakeCa('first', { clock: issuer.clock.read, ...options.first });
  const second = fakeCa('second', { clock: issuer.clock.read, ...options.second });
  issuer.deps.cas = [first.ca, second.ca];
  issuer.decisions.allowed.add(name);
  const delays: { until: number; token: string | undefined }[] = [];
  const run = (reason: IssueReason = 'visitor') =>
    runIssueJob(
      {
        id: 'job-1',
        data: { name, reason, requestedAt: T0 },
        moveToDelayed: async (until: number, token?: string) => void delays.push({ until, token }),
      },
      'token-1',
      issuer.deps,
    );
  return { ...issuer, first, second, delays, run };
}

describe('runIssueJob', () => {
  it('answers from the store without ordering when the certificate is valid (idempotent)', async () => {
    const s = setup();
    s.store.certificates.set(name, storedCertificate(name, T0 - DAY_MS, { serial: 'AB' }));
    expect(await s.run('visitor')).toMatchObject({ outcome: 'already-valid', serial: 'AB' });
    expect(s.first.orders).toEqual([]);
    expect(s.decisions.asked).toEqual([]);
  });

  it('renews a certificate that is due, and leaves one that is not', async () => {
    const s = setup();
    s.store.certificates.set(name, storedCertificate(name, T0 - 10 * DAY_MS, { renewAt: T0 + DAY_MS }));
    expect((await s.run('renewal')).outcome).toBe('already-valid');
    s.clock.advance(DAY_MS);
    expect((await s.run('renewal')).outcome).toBe('issued');
    expect(s.first.orders).toHaveLength(1);
  });

  it('orders nothing for a name that failed permanently or is cooling down', async () => {
    for (const state of [
      { state: 'failed' as const, coolUntil: undefined },
      { state: 'cooling' as const, coolUntil: T0 + 60_000 },
    ]) {
      const s = setup();
      s.store.nameStates.set(name, { attempts: 1, failures: 1, lastError: 'x', lastErrorAt: T0, ca: 'first', updatedAt: T0, ...state });
      await expect(s.run()).rejects.toThrow(UnrecoverableError);
      expect(s.first.orders).toEqual([]);
    }
  });

  it("fails a visitor's job for a name not allowed for good, without ordering", async () => {
    const s = setup();
    s.decisions.allowed.clear();
    await expect(s.run('visitor')).rejects.toThrow(UnrecoverableError);
    expect(s.first.orders).toEqual([]);
  });

  it('retires a due renewal whose name left the policy, or that no edge served for the idle period', async () => {
    const left = setup();
    left.decisions.allowed.clear();
    left.store.certificates.set(name, storedCertificate(name, T0 - 70 * DAY_MS));
    expect((await left.run('renewal')).outcome).toBe('retired');
    expect(left.store.retired.map((r) => r.kind)).toEqual(['left-policy']);

    const idle = setup();
    idle.store.certificates.set(name, storedCertificate(name, T0 - 70 * DAY_MS));
    idle.store.lastServed.set(name, T0 - 40 * DAY_MS);
    expect((await idle.run('renewal')).outcome).toBe('retired');
    expect(idle.retiredKinds).toEqual(['idle']);
    expect([...left.first.orders, ...idle.first.orders]).toEqual([]);
  });

  it('issues, stores (ECDSA with RSA beside it) and marks the name active', async () => {
    const s = setup();
    s.deps.keyTypes = ['ecdsa', 'rsa'];
    const result = await s.run('visitor');
    expect(result).toEqual({ outcome: 'issued', serial: `ECDSA-${T0}`, notAfter: T0 + 90 * DAY_MS });
    expect(s.store.saved).toHaveLength(1);
    expect(s.store.saved[0]?.cert).toMatchObject({ serial: `ECDSA-${T0}`, ca: 'first', rsa: { serial: `RSA-${T0}` } });
    expect(s.store.notes.map((n) => `${n.what}@${n.ca}`)).toEqual(['issuing@first', 'active@first']);
    expect(s.budgets.taken[0]?.count).toBe(2);
  });

  it('orders only once its claim is durable: after marking the name issuing, before the CA hears of it', async () => {
    const s = setup();
    const seen: string[] = [];
    s.deps.claimDurable = async () => {
      seen.push(`durable after ${s.store.notes.map((n) => n.what).join(',')}, ${s.first.orders.length} orders`);
    };
    await s.run('visitor');
    expect(seen).toEqual(['durable after issuing, 0 orders']);
    expect(s.first.orders).toHaveLength(1);
  });

  it('skips a paused CA and orders at the next one', async () => {
    const s = setup();
    s.store.caPauses.set('first', { until: T0 + 60_000, reason: '429' });
    expect((await s.run()).outcome).toBe('issued');
    expect(s.first.orders).toEqual([]);
    expect(s.second.orders).toHaveLength(1);
  });

  it('tries the next CA when a budget refuses, and delays the job until the soonest CA can order', async () => {
    const s = setup();
    s.budgets.refuse('{ca:first}:orders', 40_000);
    expect((await s.run()).outcome).toBe('issued');
    expect(s.second.orders).toHaveLength(1);

    const none = setup();
    none.budgets.refuse('{ca:first}:orders', 40_000);
    none.budgets.refuse('{ca:second}:orders', 25_000);
    await expect(none.run('visitor')).rejects.toBeInstanceOf(DelayedError);
    expect(none.delays).toEqual([{ until: T0 + 25_000, token: 'token-1' }]);
    expect(none.store.issuanceBlocked()?.until).toBe(T0 + 25_000);
  });

  it("delays a refused renewal with the spread, and does not block visitors' issuance", async () => {
    const s = setup();
    s.store.certificates.set(name, storedCertificate(name, T0 - 70 * DAY_MS));
    s.budgets.refuse(':orders', 25_000);
    await expect(s.run('renewal')).rejects.toBeInstanceOf(DelayedError);
    expect(s.delays).toEqual([{ until: T0 + 25_000 + RENEWAL_SPREAD_MS / 2, token: 'token-1' }]);
    expect(s.store.issuanceBlocked()).toBeUndefined();
  });

  it('renews under ARI at the CA that issued the certificate without drawing on any budget', async () => {
    const s = setup({ first: { supportsAri: true } });
    s.store.certificates.set(name, storedCertificate(name, T0 - 70 * DAY_MS, { ca: 'first', ariId: 'aki.serial' }));
    s.budgets.refuse('first', 40_000);
    expect((await s.run('renewal')).outcome).toBe('issued');
    expect(s.first.orders[0]?.replaces).toBe('aki.serial');
    expect(s.budgets.taken).toEqual([]);
  });

  it('pauses a CA that rate-limits or is down and orders at the next one', async () => {
    for (const fails of [
      new AcmeProblemError('urn:ietf:params:acme:error:rateLimited', 429, 'slow down', 'https://first/order', 30_000),
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    ]) {
      const s = setup({ first: { fails } });
      expect((await s.run()).outcome).toBe('issued');
      expect(s.store.caPauses.get('first')?.until).toBeGreaterThan(T0);
      expect(s.second.orders).toHaveLength(1);
    }
  });

  it('cools a name down after a failed validation and does not try the next CA', async () => {
    const s = setup({ first: { fails: new AcmeValidationError(name, 'connection refused') } });
    await expect(s.run()).rejects.toThrow(/cooling down for 60 s/);
    expect(s.store.nameStates.get(name)?.state).toBe('cooling');
    expect(s.second.orders).toEqual([]);
  });

  it('marks a name the CA refuses failed, and rethrows a transient error for a retry', async () => {
    const refused = setup({
      first: { fails: new AcmeProblemError('urn:ietf:params:acme:error:caa', 403, 'CAA', 'https://first/order', undefined) },
    });
    await expect(refused.run()).rejects.toThrow(UnrecoverableError);
    expect(refused.store.nameStates.get(name)?.state).toBe('failed');

    const odd = new Error('something odd');
    const transient = setup({ first: { fails: odd } });
    await expect(transient.run()).rejects.toBe(odd);
    expect(transient.store.nameStates.get(name)?.lastError).toBe('something odd');
    expect(transient.second.orders).toEqual([]);
  });
});
