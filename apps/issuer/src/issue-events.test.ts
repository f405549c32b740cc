import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { AcmeValidationError } from '@certfleet/acme';
import type { HostnameEventType } from '@certfleet/hostnames';
import type { IssueReason } from '@certfleet/queue';
import { DAY_MS, T0, fakeCa, fakeIssuer, storedCertificate } from './issue/fakes.js';
import { runIssueJob } from './issue-job.js';

const name = 'shop.example';

/** An issuer whose job outcomes are published to a list, with one CA and the name allowed. */
function setup(ca: Parameters<typeof fakeCa>[1] = {}) {
  const issuer = fakeIssuer();
  const first = fakeCa('first', { clock: issuer.clock.read, ...ca });
  issuer.deps.cas = [first.ca];
  issuer.decisions.allowed.add(name);
  const published: [HostnameEventType, string, string | undefined][] = [];
  issuer.deps.events = {
    publish: async (type, hostname, key) => {
      published.push([type, hostname, key]);
    },
  };
  const run = (reason: IssueReason = 'visitor') =>
    runIssueJob({ id: 'job-7', data: { name, reason, requestedAt: T0 }, moveToDelayed: async () => undefined }, 'token-1', issuer.deps);
  return { ...issuer, published, run };
}

describe('events published by an issuance job', () => {
  it('publishes certificate.issued for a first certificate, keyed by its serial', async () => {
    const s = setup();
    const result = await s.run();
    expect(s.published).toEqual([['certificate.issued', name, result.serial]]);
  });

  it('publishes certificate.renewed when a certificate was replaced', async () => {
    const s = setup();
    s.store.certificates.set(name, storedCertificate(name, T0 - 70 * DAY_MS));
    const result = await s.run('renewal');
    expect(s.published).toEqual([['certificate.renewed', name, result.serial]]);
  });

  it('publishes certificate.failed, keyed by the job, after a failed validation (the same id at every attempt)', async () => {
    const s = setup({ fails: new AcmeValidationError(name, 'connection refused') });
    await expect(s.run()).rejects.toThrow(UnrecoverableError);
    expect(s.published).toEqual([['certificate.failed', name, 'job-7']]);
  });

  it('publishes nothing for a transient failure (BullMQ retries it) or an answer from the store', async () => {
    const transient = setup({ fails: new Error('socket hang up') });
    await expect(transient.run()).rejects.toThrow('socket hang up');
    const valid = setup();
    valid.store.certificates.set(name, storedCertificate(name, T0 - DAY_MS));
    expect((await valid.run()).outcome).toBe('already-valid');
    expect([...transient.published, ...valid.published]).toEqual([]);
  });

  it('publishes certificate.retired, keyed by the retired serial, when a renewal finds the name gone', async () => {
    const s = setup();
    s.decisions.allowed.clear();
    s.store.certificates.set(name, storedCertificate(name, T0 - 70 * DAY_MS, { serial: 'OLD1' }));
    expect((await s.run('renewal')).outcome).toBe('retired');
    expect(s.published).toEqual([['certificate.retired', name, 'OLD1']]);
  });
});
