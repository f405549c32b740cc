import type { ChainStore } from './chains.js';
import { splitChain } from './chains.js';
import { purposes, type SealedValues } from './sealed-values.js';
import type { CertificateDetails, RetirementKind, StoredCertificate } from './certificates.js';

/**
 * The fields of a certificate's hash (`cert:{name}`).
 *
 * Written now: `leaf` (the leaf's PEM), `chainId` (the intermediates, stored once under
 * `chain:<id>`, see chains.ts), `key` (the private key, sealed for `cert-key:<name>:ecdsa`),
 * the dates and names; for a dual-key name also `rsaLeaf`, `rsaChainId`, `rsaKey` (sealed for
 * `cert-key:<name>:rsa`), `rsaSerial`, `rsaNotAfter`.
 *
 * Still read: `chain` / `rsaChain` (the whole chain, written before the chain was shared) and
 * plain PEM keys (written before sealing). Both are replaced at the next save (a renewal);
 * `certfleet keys rotate` seals the keys sooner.
 */
export const LEGACY_CHAIN_FIELDS = ['chain', 'rsaChain'] as const;
export const RSA_FIELDS = ['rsaLeaf', 'rsaChainId', 'rsaKey', 'rsaSerial', 'rsaNotAfter', 'rsaChain'] as const;
export const RETIREMENT_FIELDS = ['retiredAt', 'retiredReason', 'retiredKind'] as const;
/** The fields that hold a private key, and the key type each is sealed for. */
export const KEY_FIELDS = [
  { field: 'key', keyType: 'ecdsa' },
  { field: 'rsaKey', keyType: 'rsa' },
] as const;

/** The hash fields for `cert`, its keys sealed and its intermediates stored apart. */
export async function fieldsOf(cert: StoredCertificate, renewAt: number, chains: ChainStore, sealed: SealedValues) {
  const main = splitChain(cert.chainPem);
  const fields: Record<string, string> = {
    leaf: main.leaf,
    chainId: await chains.put(main.intermediates),
    key: sealed.seal(cert.keyPem, purposes.certKey(cert.name, 'ecdsa')),
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
  if (cert.rsa) {
    const rsa = splitChain(cert.rsa.chainPem);
    Object.assign(fields, {
      rsaLeaf: rsa.leaf,
      rsaChainId: await chains.put(rsa.intermediates),
      rsaKey: sealed.seal(cert.rsa.keyPem, purposes.certKey(cert.name, 'rsa')),
      rsaSerial: cert.rsa.serial,
      rsaNotAfter: String(cert.rsa.notAfter),
    });
  }
  return fields;
}

/** Whether a hash holds a certificate (a retire or reschedule on a missing name leaves a stub). */
export const holdsCertificate = (h: Record<string, string>) => Boolean(h.key && (h.leaf || h.chain));

/** A certificate's hash read back, everything but the private keys. */
export async function detailsOf(name: string, h: Record<string, string>, chains: ChainStore): Promise<CertificateDetails> {
  const chainOf = async (leaf: string | undefined, chainId: string | undefined, whole: string | undefined) =>
    leaf !== undefined ? leaf + (await chains.get(chainId ?? '')) : (whole ?? '');
  const rsaChainPem = h.rsaKey ? await chainOf(h.rsaLeaf, h.rsaChainId, h.rsaChain) : '';
  return {
    name,
    names: JSON.parse(h.names ?? '[]') as string[],
    chainPem: await chainOf(h.leaf, h.chainId, h.chain),
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

/** `details` with its private keys, opened from the hash `h`. */
export function withKeys(details: CertificateDetails, h: Record<string, string>, sealed: SealedValues): StoredCertificate {
  const { rsa, ...rest } = details;
  return {
    ...rest,
    keyPem: sealed.open(h.key ?? '', purposes.certKey(details.name, 'ecdsa')),
    rsa: rsa && h.rsaKey ? { ...rsa, keyPem: sealed.open(h.rsaKey, purposes.certKey(details.name, 'rsa')) } : undefined,
  };
}
