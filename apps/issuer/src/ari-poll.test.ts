import { describe, expect, it } from 'vitest';
import type { RenewalWindow } from '@certfleet/acme';
import type { StoredCertificate } from '@certfleet/store';
import { runAriPollTick } from './ari-poll.js';

const MINUTE = 60_000;
const NOW = 1_000 * MINUTE;

/** An in-memory poll index and certificate store: the tick's whole view of Redis. */
function fakes(certs: StoredCertificate[], polls: Record<string, number>) {
  const pollIndex = new Map(Object.entries(polls));
  const byName = new Map(certs.map((c) => [c.name, { ...c }]));
  const reads: string[] = [];
  return {
    pollIndex,
    byName,
    reads,
    renewals: {
      async dueAriPolls(now: number, limit: number) {
        return [...pollIndex]
          .filter(([, at]) => at <= now)
          .sort((a, b) => a[1] - b[1])
          .slice(0, limit)
          .map(([name]) => name);
      },
      async scheduleAriPoll(name: string, at: number) {
        pollIndex.set(name, at);
      },
      async dropAriPoll(name: string) {
        pollIndex.delete(name);
      },
    },
    certificates: {
      async get(name: string) {
        reads.push(name);
        return byName.get(name) ?? null;
      },
      async reschedule(name: string, renewAt: number) {
        const cert = byName.get(name);
        if (cert) cert.renewAt = renewAt;
      },
    },
  };
}

const cert = (name: string, renewAt: number, extra: Partial<StoredCertificate> = {}): StoredCertificate => ({
  name,
  names: [name],
  chainPem: '',
  keyPem: '',
  serial: 'AB',
  notBefore: NOW - 60 * MINUTE,
  notAfter: NOW + 24 * 60 * MINUTE,
  issuer: 'ca',
  issuedAt: NOW - 60 * MINUTE,
  ca: 'default',
  ariId: `id-${name}`,
  renewAt,
  ...extra,
});

describe('runAriPollTick', () => {
  it('moves the renewal into a new, earlier window and polls again as Retry-After says', async () => {
    const f = fakes([cert('a.example', NOW + 600 * MINUTE)], { 'a.example': NOW - 1 });
    const window: RenewalWindow = { start: NOW + MINUTE, end: NOW + 11 * MINUTE, retryAfterMs: 5 * MINUTE };
    const [outcome] = await runAriPollTick({ ...f, windowFor: async () => window, now: NOW, batch: 10, random: () => 0.5 });
    expect(outcome).toMatchObject({ name: 'a.example', outcome: 'moved', renewAt: NOW + 6 * MINUTE });
    expect(f.byName.get('a.example')?.renewAt).toBe(NOW + 6 * MINUTE);
    expect(f.pollIndex.get('a.example')).toBe(NOW + 5 * MINUTE);
  });

  it('keeps a renewal time that still lies inside the window', async () => {
    const f = fakes([cert('a.example', NOW + 300 * MINUTE)], { 'a.example': NOW });
    const window: RenewalWindow = { start: NOW + 200 * MINUTE, end: NOW + 400 * MINUTE, retryAfterMs: 60 * MINUTE };
    const [outcome] = await runAriPollTick({ ...f, windowFor: async () => window, now: NOW, batch: 10 });
    expect(outcome?.outcome).toBe('kept');
    expect(f.byName.get('a.example')?.renewAt).toBe(NOW + 300 * MINUTE);
    expect(f.pollIndex.get('a.example')).toBe(NOW + 60 * MINUTE);
  });

  it('renews at once when the window has already ended (the CA wants it replaced now)', async () => {
    const f = fakes([cert('a.example', NOW + 300 * MINUTE)], { 'a.example': NOW });
    const window: RenewalWindow = { start: NOW - 20 * MINUTE, end: NOW - 10 * MINUTE, retryAfterMs: MINUTE };
    const [outcome] = await runAriPollTick({ ...f, windowFor: async () => window, now: NOW, batch: 10 });
    expect(outcome).toMatchObject({ outcome: 'moved', renewAt: NOW });
  });

  it('reads only the due slice, at most a batch, earliest first', async () => {
    const certs = Array.from({ length: 50 }, (_, i) => cert(`n${i}.example`, NOW + 100 * MINUTE));
    const polls = Object.fromEntries(certs.map((c, i) => [c.name, i < 5 ? NOW - (5 - i) : NOW + MINUTE + i]));
    const f = fakes(certs, polls);
    const window: RenewalWindow = { start: NOW + 50 * MINUTE, end: NOW + 150 * MINUTE, retryAfterMs: MINUTE };
    const asked: string[] = [];
    const outcomes = await runAriPollTick({
      ...f,
      windowFor: async (c) => {
        asked.push(c.name);
        return window;
      },
      now: NOW,
      batch: 3,
    });
    expect(outcomes.map((o) => o.name)).toEqual(['n0.example', 'n1.example', 'n2.example']);
    expect(f.reads).toEqual(asked);
    expect(asked).toHaveLength(3);
  });

  it('drops certificates that are gone, retired or without ARI, and backs off after a failed request', async () => {
    const f = fakes(
      [cert('retired.example', NOW, { retiredAt: NOW - 1 }), cert('plain.example', NOW, { ariId: undefined }), cert('down.example', NOW)],
      { 'gone.example': NOW, 'retired.example': NOW, 'plain.example': NOW, 'down.example': NOW },
    );
    const outcomes = await runAriPollTick({
      ...f,
      windowFor: async () => {
        throw new Error('503');
      },
      now: NOW,
      batch: 10,
    });
    expect(Object.fromEntries(outcomes.map((o) => [o.name, o.outcome]))).toEqual({
      'gone.example': 'dropped',
      'retired.example': 'dropped',
      'plain.example': 'dropped',
      'down.example': 'failed',
    });
    expect([...f.pollIndex.keys()]).toEqual(['down.example']);
    expect(f.pollIndex.get('down.example')).toBeGreaterThan(NOW);
  });
});
