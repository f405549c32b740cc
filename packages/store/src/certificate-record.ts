import { type BodyEntry, decodeBody, encodeBody, keyPemOf, keyPlaintext } from './certificate-body.js';
import type { ChainStore } from './chains.js';
import { splitChain } from './chains.js';
import type { CertificateDetails, RetirementKind, StoredCertificate } from './certificates.js';
import { purposes, type SealedValues } from './sealed-values.js';

/**
 * A certificate in Redis: two keys in the name's slot, written together (MULTI).
 *
 * - `cert:{name}`, a hash of small fields (names, serial, dates, issuer, ca, ariId, renewAt,
 *   `chainId`, `rsaChainId`/`rsaSerial`/`rsaNotAfter`, retired*): every value fits Redis's
 *   compact hash encoding (listpack, values up to 64 bytes), which costs a few bytes a field
 *   where a hash holding a certificate costs about 70.
 * - `cert-body:{name}`, a string: the leaf (DER) and the private key sealed for
 *   `cert-key:<name>:ecdsa`, and the RSA twin's (`…:rsa`); see certificate-body.ts.
 * - The intermediates are stored once per chain (`chain:<id>`, see chains.ts).
 *
 * Still read: hashes written before (fields `chain` and `key`, `rsaChain` and `rsaKey`: the
 * whole chain and the key, plain PEM or sealed by `certfleet keys rotate`). The next save (a
 * renewal) writes the body and removes them.
 */
export const LEGACY_FIELDS = ['chain', 'key', 'rsaChain', 'rsaKey'] as const;
export const RSA_FIELDS = ['rsaChainId', 'rsaSerial', 'rsaNotAfter'] as const;
export const RETIREMENT_FIELDS = ['retiredAt', 'retiredReason', 'retiredKind'] as const;
/** The legacy hash fields that hold a private key, and the key type each is sealed for. */
export const LEGACY_KEY_FIELDS = [
  { field: 'key', keyType: 'ecdsa' },
  { field: 'rsaKey', keyType: 'rsa' },
] as const;

/** What Redis holds for a name: its hash and its body (null when none, or written before bodies). */
export interface CertificateRecord {
  hash: Record<string, string>;
  body: Buffer | null;
}

/** The hash fields and the body for `cert`, its keys sealed and its intermediates stored apart. */
export async function recordOf(cert: StoredCertificate, renewAt: number, chains: ChainStore, sealed: SealedValues) {
  const entry = (chainPem: string, keyPem: string, keyType: 'ecdsa' | 'rsa') => {
    const { leaf, intermediates } = splitChain(chainPem);
    const { plaintext, keyForm } = keyPlaintext(keyPem);
    const body: BodyEntry = { leafPem: leaf, sealedKey: sealed.seal(plaintext, purposes.certKey(cert.name, keyType)), keyForm };
    return { body, intermediates };
  };
  const main = entry(cert.chainPem, cert.keyPem, 'ecdsa');
  const rsa = cert.rsa && entry(cert.rsa.chainPem, cert.rsa.keyPem, 'rsa');
  const fields: Record<string, string> = {
    chainId: await chains.put(main.intermediates),
    names: JSON.stringify(cert.names),
    serial: cert.serial,
    notBefore: String(cert.notBefore),
    notAfter: String(cert.notAfter),
    issuer: cert.issuer,
    issuedAt: String(cert.issuedAt),
    ca: cert.ca ?? '',
    ariId: cert.ariId ?? '',
    renewAt: String(renewAt),
  };
  if (cert.rsa && rsa) {
    Object.assign(fields, {
      rsaChainId: await chains.put(rsa.intermediates),
      rsaSerial: cert.rsa.serial,
      rsaNotAfter: String(cert.rsa.notAfter),
    });
  }
  return { fields, body: encodeBody({ ecdsa: main.body, rsa: rsa?.body }) };
}

/** Whether a record holds a certificate (a retire or reschedule on a missing name leaves a stub hash). */
export const holdsCertificate = ({ hash, body }: CertificateRecord) => body !== null || Boolean(hash.chain && hash.key);

/** A certificate read back, everything but the private keys. */
export async function detailsOf(name: string, record: CertificateRecord, chains: ChainStore): Promise<CertificateDetails> {
  const h = record.hash;
  const body = record.body && decodeBody(record.body);
  const chainPem = body ? body.ecdsa.leafPem + (await chains.get(h.chainId ?? '')) : (h.chain ?? '');
  const rsaChainPem = body ? body.rsa && body.rsa.leafPem + (await chains.get(h.rsaChainId ?? '')) : h.rsaKey && h.rsaChain;
  return {
    name,
    names: JSON.parse(h.names ?? '[]') as string[],
    chainPem,
    serial: h.serial ?? '',
    notBefore: Number(h.notBefore),
    notAfter: Number(h.notAfter),
    issuer: h.issuer ?? '',
    issuedAt: Number(h.issuedAt),
    ca: h.ca || undefined,
    ariId: h.ariId || undefined,
    renewAt: h.renewAt ? Number(h.renewAt) : undefined,
    retiredAt: h.retiredAt ? Number(h.retiredAt) : undefined,
    retiredReason: h.retiredReason || undefined,
    retiredKind: (h.retiredKind as RetirementKind | undefined) || undefined,
    rsa: rsaChainPem ? { chainPem: rsaChainPem, serial: h.rsaSerial ?? '', notAfter: Number(h.rsaNotAfter) } : undefined,
  };
}

/** `details` with its private keys, opened from `record`. */
export function withKeys(details: CertificateDetails, record: CertificateRecord, sealed: SealedValues): StoredCertificate {
  const { rsa, ...rest } = details;
  const purpose = (keyType: 'ecdsa' | 'rsa') => purposes.certKey(details.name, keyType);
  const body = record.body && decodeBody(record.body);
  const open = (entry: BodyEntry, keyType: 'ecdsa' | 'rsa') =>
    keyPemOf(
      sealed.openBytes(entry.sealedKey, purpose(keyType), (plain) => Buffer.from(plain)),
      entry.keyForm,
    );
  const keyPem = body ? open(body.ecdsa, 'ecdsa') : sealed.open(record.hash.key ?? '', purpose('ecdsa'));
  const rsaKeyPem = body ? body.rsa && open(body.rsa, 'rsa') : record.hash.rsaKey && sealed.open(record.hash.rsaKey, purpose('rsa'));
  return { ...rest, keyPem, rsa: rsa && rsaKeyPem ? { ...rsa, keyPem: rsaKeyPem } : undefined };
}
