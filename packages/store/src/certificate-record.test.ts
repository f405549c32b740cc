import { randomBytes } from 'node:crypto';
import { createKeyring, keyIdOf, TamperedRecordError } from '@certfleet/sealing';
import { describe, expect, it } from 'vitest';
import { detailsOf, fieldsOf, holdsCertificate, withKeys } from './certificate-record.js';
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
  it('keeps the leaf, the chain id and the keys sealed for their name and type; reads back the same certificate', async () => {
    const ring = keyring();
    const { held, chains } = memoryChains();
    const fields = await fieldsOf(cert('shop.example'), 5, chains, sealedValues(ring));
    expect(fields.leaf).toBe(LEAF);
    expect(fields.chainId).toBe(chainIdOf(INTERMEDIATE));
    expect([...held.values()]).toEqual([INTERMEDIATE]);
    expect(JSON.stringify(fields)).not.toContain('PRIVATE KEY');
    expect(ring.open(fields.key ?? '', 'cert-key:shop.example:ecdsa').toString()).toBe(KEY);
    expect(ring.open(fields.rsaKey ?? '', 'cert-key:shop.example:rsa').toString()).toBe(RSA_KEY);

    const read = withKeys(await detailsOf('shop.example', fields, chains), fields, sealedValues(ring));
    expect(read).toEqual({ ...cert('shop.example'), renewAt: 5, retiredAt: undefined, retiredKind: undefined, retiredReason: undefined });
  });

  it('refuses keys moved to another name or swapped between key types', async () => {
    const ring = keyring();
    const { chains } = memoryChains();
    const fields = await fieldsOf(cert('shop.example'), 5, chains, sealedValues(ring));
    const details = await detailsOf('evil.example', fields, chains);
    expect(() => withKeys(details, fields, sealedValues(ring))).toThrow(TamperedRecordError);
    const swapped = { ...fields, key: fields.rsaKey ?? '', rsaKey: fields.key ?? '' };
    expect(() => withKeys(details, swapped, sealedValues(ring))).toThrow(TamperedRecordError);
  });

  it('reads a record written before sealing and before chains were shared', async () => {
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
    expect(holdsCertificate(legacy)).toBe(true);
    const read = withKeys(await detailsOf('old.example', legacy, chains), legacy, sealedValues(undefined));
    expect(read.chainPem).toBe(LEAF + INTERMEDIATE);
    expect(read.keyPem).toBe(KEY);
    expect(read.rsa).toMatchObject({ chainPem: LEAF, keyPem: RSA_KEY });
  });

  it('without a keyring, describes a certificate but neither opens its keys nor seals new ones, naming CERTFLEET_KEK_FILE', async () => {
    const { chains } = memoryChains();
    const fields = await fieldsOf(cert('shop.example'), 5, chains, sealedValues(keyring()));
    const details = await detailsOf('shop.example', fields, chains);
    expect(details).not.toHaveProperty('keyPem');
    expect(details.rsa).toEqual({ chainPem: LEAF + INTERMEDIATE, serial: 'CD02', notAfter: 2 });
    expect(() => withKeys(details, fields, sealedValues(undefined))).toThrow(KeyringRequiredError);
    await expect(fieldsOf(cert('shop.example'), 5, chains, sealedValues(undefined))).rejects.toThrow(
      /CERTFLEET_KEK_FILE .*openssl rand -base64 32 > \/path; CERTFLEET_KEK_FILE=\/path/,
    );
  });
});
