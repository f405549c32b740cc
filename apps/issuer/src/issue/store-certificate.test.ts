import { describe, expect, it } from 'vitest';
import { renewalTime } from '@certfleet/renewal';
import { DAY_MS, T0, fakeAccount, fakeIssuer, issuedCertificate, silentLogger } from './fakes.js';
import { issueAll } from './order.js';
import { storeCertificate } from './store-certificate.js';

const name = 'shop.example';

describe('issueAll', () => {
  it('orders one certificate a key type, ECDSA first, naming the replaced certificate on the first order only', async () => {
    const { deps } = fakeIssuer();
    deps.keyTypes = ['ecdsa', 'rsa'];
    const { account, orders } = fakeAccount();
    const issued = await issueAll(account, name, { replaces: 'aki.serial', profile: 'shortlived' }, deps);
    expect(issued.map((c) => c.keyType)).toEqual(['ecdsa', 'rsa']);
    expect(orders).toEqual([
      { names: [name], keyType: 'ecdsa', replaces: 'aki.serial', profile: 'shortlived' },
      { names: [name], keyType: 'rsa', replaces: undefined, profile: 'shortlived' },
    ]);
  });
});

describe('storeCertificate', () => {
  it('saves the ECDSA certificate with the RSA one beside it, renewed before the shorter-lived expires, and marks the name active', async () => {
    const { deps, store, clock } = fakeIssuer();
    const ecdsa = issuedCertificate(name, 'ecdsa', T0);
    const rsa = issuedCertificate(name, 'rsa', T0, 60 * DAY_MS);
    clock.advance(2_000);
    const { account } = fakeAccount();
    const stored = await storeCertificate([ecdsa, rsa], { name, caName: 'first', account }, deps, silentLogger);
    expect(stored).toEqual({ main: ecdsa, issuedAt: T0 + 2_000 });
    expect(store.saved).toHaveLength(1);
    const [saved] = store.saved;
    expect(saved?.cert).toMatchObject({ name, serial: ecdsa.serial, issuedAt: T0 + 2_000, ca: 'first', ariId: undefined });
    expect(saved?.cert.rsa).toEqual({ chainPem: rsa.chainPem, keyPem: rsa.keyPem, serial: rsa.serial, notAfter: rsa.notAfter });
    expect(saved?.renewAt).toBe(renewalTime({ name, notBefore: T0, notAfter: T0 + 60 * DAY_MS }, 1 / 3));
    expect(store.nameStates.get(name)).toMatchObject({ state: 'active', ca: 'first', updatedAt: T0 + 2_000 });
  });

  it('waits out a Redis failover instead of failing the order the CA has already fulfilled', async () => {
    const { deps, store } = fakeIssuer();
    const { account } = fakeAccount();
    const save = deps.store.certificates.save.bind(deps.store.certificates);
    let refusals = 2;
    deps.store.certificates.save = async (...args: Parameters<typeof save>) => {
      if (refusals-- > 0) throw new Error('Connection is closed.');
      return save(...args);
    };
    await storeCertificate([issuedCertificate(name, 'ecdsa', T0)], { name, caName: 'first', account }, deps, silentLogger);
    expect(store.saved).toHaveLength(1);
    expect(store.nameStates.get(name)).toMatchObject({ state: 'active' });
  });

  it('saves an ECDSA certificate alone when only ECDSA is ordered', async () => {
    const { deps, store } = fakeIssuer();
    const { account } = fakeAccount();
    await storeCertificate([issuedCertificate(name, 'ecdsa', T0)], { name, caName: 'first', account }, deps, silentLogger);
    expect(store.saved[0]?.cert.rsa).toBeUndefined();
  });

  it('stores nothing and marks nothing when no certificate came back', async () => {
    const { deps, store } = fakeIssuer();
    const { account } = fakeAccount();
    await expect(storeCertificate([], { name, caName: 'first', account }, deps, silentLogger)).rejects.toThrow(/no certificate/);
    expect(store.saved).toEqual([]);
    expect(store.notes).toEqual([]);
  });
});
