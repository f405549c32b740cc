import { describe, expect, it } from 'vitest';
import { ariReplaces, caPausedForMs, takeOrderBudget } from './ca-choice.js';
import { T0, fakeCa, fakeIssuer, silentLogger, storedCertificate } from './fakes.js';

const name = 'shop.example';

describe('caPausedForMs', () => {
  it('says how long a paused CA stays paused', async () => {
    const { deps, store } = fakeIssuer();
    store.caPauses.set('first', { until: T0 + 5_000, reason: '429' });
    expect(await caPausedForMs('first', deps)).toBe(5_000);
  });

  it('lets a CA whose pause ran out, or that was never paused, take orders', async () => {
    const { deps, store } = fakeIssuer();
    store.caPauses.set('first', { until: T0, reason: '429' });
    expect(await caPausedForMs('first', deps)).toBeUndefined();
    expect(await caPausedForMs('second', deps)).toBeUndefined();
  });
});

describe('ariReplaces', () => {
  const existing = storedCertificate(name, T0, { ca: 'first', ariId: 'aki.serial' });

  it('names the certificate a renewal replaces at the CA that issued it, when that CA offers ARI', async () => {
    expect(await ariReplaces(fakeCa('first', { supportsAri: true }).ca, 'renewal', existing)).toBe('aki.serial');
  });

  it('names none at another CA, at a CA without ARI, or for a job that is not a renewal', async () => {
    expect(await ariReplaces(fakeCa('second', { supportsAri: true }).ca, 'renewal', existing)).toBeUndefined();
    expect(await ariReplaces(fakeCa('first', { supportsAri: false }).ca, 'renewal', existing)).toBeUndefined();
    expect(await ariReplaces(fakeCa('first', { supportsAri: true }).ca, 'visitor', existing)).toBeUndefined();
    expect(await ariReplaces(fakeCa('first', { supportsAri: true }).ca, 'renewal', { ...existing, ariId: undefined })).toBeUndefined();
  });
});

describe('takeOrderBudget', () => {
  it("takes one token a key type from each of the CA's order budgets", async () => {
    const { deps, budgets } = fakeIssuer();
    deps.keyTypes = ['ecdsa', 'rsa'];
    expect(await takeOrderBudget(fakeCa('first').ca, { name, reason: 'visitor', replaces: undefined }, deps, silentLogger)).toEqual({
      granted: true,
    });
    expect(budgets.taken).toHaveLength(1);
    expect(budgets.taken[0]?.count).toBe(2);
    expect(budgets.taken[0]?.claims.map((c) => c.key)).toEqual(
      expect.arrayContaining(['t:bucket:{ca:first}:orders', 't:bucket:{ca:first}:domain:shop.example']),
    );
  });

  it('says how long until a refused budget could grant', async () => {
    const { deps, budgets } = fakeIssuer();
    budgets.refuse('{ca:first}:orders', 42_000);
    expect(await takeOrderBudget(fakeCa('first').ca, { name, reason: 'visitor', replaces: undefined }, deps, silentLogger)).toEqual({
      granted: false,
      retryAfterMs: 42_000,
    });
  });

  it('records which budget holds the name back and until when, for the hostname object and domains status', async () => {
    const { deps, budgets, store } = fakeIssuer();
    budgets.refuse('domain:shop.example', 3 * 3_600_000);
    await takeOrderBudget(fakeCa('first').ca, { name, reason: 'provision', replaces: undefined }, deps, silentLogger);
    expect(store.holds).toEqual([{ name, budget: 'first: domain:shop.example', until: T0 + 3 * 3_600_000, at: T0 }]);
  });

  it('draws on no budget for a renewal that replaces a certificate under ARI (exempt from the CA limits)', async () => {
    const { deps, budgets } = fakeIssuer();
    budgets.refuse('first', 42_000);
    expect(await takeOrderBudget(fakeCa('first').ca, { name, reason: 'renewal', replaces: 'aki.serial' }, deps, silentLogger)).toEqual({
      granted: true,
    });
    expect(budgets.taken).toEqual([]);
  });
});
