import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { DAY_MS, T0, fakeIssuer, silentLogger, storedCertificate } from './fakes.js';
import { checkPolicy, retireCertificate } from './retirement.js';

const name = 'shop.example';

describe('checkPolicy', () => {
  it('fails a visitor job for a name the policy does not allow for good, asking the cached decision', async () => {
    const { deps, decisions } = fakeIssuer();
    await expect(checkPolicy(name, 'visitor', null, T0, deps)).rejects.toThrow(UnrecoverableError);
    await expect(checkPolicy(name, 'visitor', null, T0, deps)).rejects.toThrow(/not allowed \(fake: not listed\)/);
    expect(decisions.asked.map((a) => a.how)).toEqual(['decide', 'decide']);
  });

  it('lets an allowed visitor job order', async () => {
    const { deps, decisions } = fakeIssuer();
    decisions.allowed.add(name);
    expect(await checkPolicy(name, 'visitor', null, T0, deps)).toBeUndefined();
  });

  it('retires a renewal whose name left the policy, asking the policy afresh', async () => {
    const { deps, decisions } = fakeIssuer();
    const retirement = await checkPolicy(name, 'renewal', storedCertificate(name, T0), T0, deps);
    expect(retirement).toEqual({ kind: 'left-policy', reason: 'no longer allowed (fake: not listed)' });
    expect(decisions.asked).toEqual([{ name, how: 'evaluate' }]);
  });

  it('fails a renewal with no certificate to retire for a name not allowed', async () => {
    const { deps } = fakeIssuer();
    await expect(checkPolicy(name, 'renewal', null, T0, deps)).rejects.toThrow(UnrecoverableError);
  });

  it('retires a renewal of a name no edge served for the idle period', async () => {
    const { deps, decisions, store } = fakeIssuer();
    decisions.allowed.add(name);
    store.lastServed.set(name, T0 - 30 * DAY_MS);
    expect(await checkPolicy(name, 'renewal', storedCertificate(name, T0 - 60 * DAY_MS), T0, deps)).toEqual({
      kind: 'idle',
      reason: `idle (not served since ${new Date(T0 - 30 * DAY_MS).toISOString()})`,
    });
  });

  it('renews a name served within the idle period, or never tracked', async () => {
    const { deps, decisions, store } = fakeIssuer();
    decisions.allowed.add(name);
    const existing = storedCertificate(name, T0 - 60 * DAY_MS);
    expect(await checkPolicy(name, 'renewal', existing, T0, deps)).toBeUndefined();
    store.lastServed.set(name, T0 - 30 * DAY_MS + 1);
    expect(await checkPolicy(name, 'renewal', existing, T0, deps)).toBeUndefined();
  });
});

describe('retireCertificate', () => {
  it.each(['left-policy', 'idle'] as const)('retires for %s: kept until it expires, counted, answered as retired', async (kind) => {
    const { deps, store, retiredKinds } = fakeIssuer();
    const existing = storedCertificate(name, T0, { serial: 'AB' });
    const result = await retireCertificate(name, existing, { kind, reason: 'why' }, T0 + 5, deps, silentLogger);
    expect(result).toEqual({ outcome: 'retired', serial: 'AB', notAfter: existing.notAfter });
    expect(store.retired).toEqual([{ name, kind, reason: 'why', at: T0 + 5 }]);
    expect(retiredKinds).toEqual([kind]);
  });
});
