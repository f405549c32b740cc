import { randomBytes } from 'node:crypto';
import { createKeyring, keyIdOf, TamperedRecordError } from '@certfleet/sealing';
import { describe, expect, it } from 'vitest';
import { decodeBody } from './certificate-body.js';
import { detailsOf, holdsCertificate, recordOf, withKeys } from './certificate-record.js';
import { chainIdOf, splitChain, type ChainStore } from './chains.js';
import type { StoredCertificate } from './certificates.js';
import { KeyringRequiredError, sealedValues } from './sealed-values.js';

const block = (body: string) => `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
const LEAF = block('TEFBRg==');
const INTERMEDIATE = block('SU5URVJNRURJQVRF');
const KEY = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';
const RSA_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ\n-----END PRIVATE KEY-----\n';

const keyring = () => {
  const bytes = randomBytes(32);
  return createKeyring([{ id: keyIdOf(bytes), bytes }]);
};

/** Chains in a Map, as Redis would hold them. */
function memoryChains() {
  const held = new Map<string, string>();
  const chains: ChainStore = {
    put: async (pem) => {
      if (pem === '') return '';
      held.set(chainIdOf(pem), pem);
      return chainIdOf(pem);
    },
    get: async (id) => (id === '' ? '' : (held.get(id) ?? Promise.reject(new Error(`no chain ${id}`)))),
  };
  return { held, chains };
}

const cert = (name: string): StoredCertificate => ({
  name,
  names: [name],
  chainPem: LEAF + INTERMEDIATE,
  keyPem: KEY,
  serial: 'AB01',
  notBefore: 1,
  notAfter: 2,
  issuer: 'Pebble Intermediate',
  issuedAt: 1,
  ca: 'pebble',
  ariId: 'x.y',
  rsa: { chainPem: LEAF + INTERMEDIATE, keyPem: RSA_KEY, serial: 'CD02', notAfter: 2 },
});

describe('splitChain', () => {
  it('cuts the leaf from the intermediates so that the two together serve the same chain', () => {
    expect(splitChain(LEAF + INTERMEDIATE)).toEqual({ leaf: LEAF, intermediates: INTERMEDIATE });
    expect(splitChain(LEAF)).toEqual({ leaf: LEAF, intermediates: '' });
    expect(splitChain('not pem')).toEqual({ leaf: 'not pem', intermediates: '' });
  });
});

describe('certificate record', () => {
  it('keeps small fields in the hash and the leaf with the keys, sealed for their name and type, in the body; reads back the same certificate', async () => {
    const ring = keyring();
    const { held, chains } = memoryChains();
    const record = await recordOf(cert('shop.example'), 5, chains, sealedValues(ring));
    expect(record.fields.chainId).toBe(chainIdOf(INTERMEDIATE));
    expect(Object.values(record.fields).every((value) => value.length <= 64)).toBe(true);
    expect([...held.values()]).toEqual([INTERMEDIATE]);
    expect(record.body.toString('latin1')).not.toContain('PRIVATE KEY');
    const body = decodeBody(record.body);
    expect(body.ecdsa.leafPem).toBe(LEAF);
    expect(() => decodeBody(record.body.subarray(0, 10))).toThrow(/cut short/);
    expect(ring.open(body.ecdsa.sealedKey, 'cert-key:shop.example:ecdsa')).toEqual(Buffer.from(KEY.split('\n')[1] as string, 'base64'));
    expect(ring.open(body.rsa?.sealedKey ?? '', 'cert-key:shop.example:rsa').length).toBeGreaterThan(0);

    const stored = { hash: record.fields, body: record.body };
    const read = withKeys(await detailsOf('shop.example', stored, chains), stored, sealedValues(ring));
    expect(read).toEqual({ ...cert('shop.example'), renewAt: 5, retiredAt: undefined, retiredKind: undefined, retiredReason: undefined });
  });

  it('keeps a leaf or a key that is not standard PEM as text, and gives it back unchanged', async () => {
    const ring = keyring();
    const { chains } = memoryChains();
    const odd = { ...cert('odd.example'), chainPem: 'a placeholder chain', keyPem: 'a placeholder key', rsa: undefined };
    const record = await recordOf(odd, 5, chains, sealedValues(ring));
    const stored = { hash: record.fields, body: record.body };
    expect(withKeys(await detailsOf('odd.example', stored, chains), stored, sealedValues(ring))).toMatchObject({
      chainPem: 'a placeholder chain',
      keyPem: 'a placeholder key',
      rsa: undefined,
    });
  });

  it('refuses keys moved to another name', async () => {
    const ring = keyring();
    const { chains } = memoryChains();
    const record = await recordOf(cert('shop.example'), 5, chains, sealedValues(ring));
    const stored = { hash: record.fields, body: record.body };
    const details = await detailsOf('evil.example', stored, chains);
    expect(() => withKeys(details, stored, sealedValues(ring))).toThrow(TamperedRecordError);
  });

  it('reads a hash written before sealing and before bodies, and one whose keys keys rotate sealed', async () => {
    const ring = keyring();
    const { chains } = memoryChains();
    const legacy = {
      chain: LEAF + INTERMEDIATE,
      key: KEY,
      names: '["old.example"]',
      serial: 'EF03',
      notAfter: '2',
      rsaChain: LEAF,
      rsaKey: RSA_KEY,
    };
    const stored = { hash: legacy, body: null };
    expect(holdsCertificate(stored)).toBe(true);
    expect(holdsCertificate({ hash: { retiredAt: '1' }, body: null })).toBe(false);
    const read = withKeys(await detailsOf('old.example', stored, chains), stored, sealedValues(undefined));
    expect(read.chainPem).toBe(LEAF + INTERMEDIATE);
    expect(read.keyPem).toBe(KEY);
    expect(read.rsa).toMatchObject({ chainPem: LEAF, keyPem: RSA_KEY });
    const rotated = { hash: { ...legacy, key: ring.seal(KEY, 'cert-key:old.example:ecdsa') }, body: null };
    expect(withKeys(await detailsOf('old.example', rotated, chains), rotated, sealedValues(ring)).keyPem).toBe(KEY);
  });

  it('without a keyring, describes a certificate but neither opens its keys nor seals new ones, naming CERTFLEET_KEK_FILE', async () => {
    const { chains } = memoryChains();
    const record = await recordOf(cert('shop.example'), 5, chains, sealedValues(keyring()));
    const stored = { hash: record.fields, body: record.body };
    const details = await detailsOf('shop.example', stored, chains);
    expect(details).not.toHaveProperty('keyPem');
    expect(details.rsa).toEqual({ chainPem: LEAF + INTERMEDIATE, serial: 'CD02', notAfter: 2 });
    expect(() => withKeys(details, stored, sealedValues(undefined))).toThrow(KeyringRequiredError);
    await expect(recordOf(cert('shop.example'), 5, chains, sealedValues(undefined))).rejects.toThrow(
      /CERTFLEET_KEK_FILE .*openssl rand -base64 32 > \/path; CERTFLEET_KEK_FILE=\/path/,
    );
  });
});
