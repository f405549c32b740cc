import { packSealed, unpackSealed } from '@certfleet/sealing';
import { derOf, pemOf } from './pem.js';

/**
 * A certificate's body (`cert-body:{name}`): its leaf and its sealed private key, and the RSA
 * twin's, as one binary string. Sections are `tag (1 byte) | length (4 bytes, big-endian) |
 * bytes`; a reader skips a tag it does not know. The leaf is kept as DER and the key sealed as
 * PKCS#8 DER when their PEM is the standard form (converting back gives the same text), which
 * saves a third of their size; anything else is kept as text. Sealed keys are packed (binary,
 * see the sealing package's `packSealed`).
 */
export interface BodyEntry {
  /** The leaf certificate, PEM. */
  leafPem: string;
  /** The private key, sealed (a keyring's record); its plaintext is DER or text as `keyForm` says. */
  sealedKey: string;
  keyForm: 'der' | 'text';
}

export interface CertificateBody {
  ecdsa: BodyEntry;
  rsa?: BodyEntry | undefined;
}

const LEAF_DER = 1;
const LEAF_TEXT = 2;
const KEY_DER = 3;
const KEY_TEXT = 4;
/** Added to a tag for the RSA twin's sections. */
const RSA = 16;

function section(tag: number, bytes: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(tag, 0);
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

function entrySections(entry: BodyEntry, offset: number): Buffer[] {
  const leafDer = derOf(entry.leafPem, 'CERTIFICATE');
  return [
    leafDer ? section(offset + LEAF_DER, leafDer) : section(offset + LEAF_TEXT, Buffer.from(entry.leafPem)),
    section(offset + (entry.keyForm === 'der' ? KEY_DER : KEY_TEXT), packSealed(entry.sealedKey)),
  ];
}

export function encodeBody(body: CertificateBody): Buffer {
  return Buffer.concat([...entrySections(body.ecdsa, 0), ...(body.rsa ? entrySections(body.rsa, RSA) : [])]);
}

/** The body stored in `bytes`; throws, naming what is wrong, when it is cut short or lacks a part. */
export function decodeBody(bytes: Buffer): CertificateBody {
  const parts = new Map<number, Buffer>();
  for (let at = 0; at < bytes.length; ) {
    if (at + 5 > bytes.length) throw new Error('a certificate body is cut short: renew the certificate');
    const tag = bytes.readUInt8(at);
    const length = bytes.readUInt32BE(at + 1);
    if (at + 5 + length > bytes.length) throw new Error('a certificate body is cut short: renew the certificate');
    parts.set(tag, bytes.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  const entry = (offset: number): BodyEntry | undefined => {
    const leafDer = parts.get(offset + LEAF_DER);
    const leafText = parts.get(offset + LEAF_TEXT);
    const keyDer = parts.get(offset + KEY_DER);
    const key = keyDer ?? parts.get(offset + KEY_TEXT);
    if ((!leafDer && !leafText) || !key) return undefined;
    return {
      leafPem: leafDer ? pemOf(leafDer, 'CERTIFICATE') : (leafText as Buffer).toString(),
      sealedKey: unpackSealed(key),
      keyForm: keyDer ? 'der' : 'text',
    };
  };
  const ecdsa = entry(0);
  if (!ecdsa) throw new Error('a certificate body holds no leaf or no key: renew the certificate');
  return { ecdsa, rsa: entry(RSA) };
}

/** The plaintext to seal for a PEM private key, and its form: PKCS#8 DER when the PEM is standard. */
export function keyPlaintext(keyPem: string): { plaintext: Buffer | string; keyForm: BodyEntry['keyForm'] } {
  const der = derOf(keyPem, 'PRIVATE KEY');
  return der ? { plaintext: der, keyForm: 'der' } : { plaintext: keyPem, keyForm: 'text' };
}

/** The PEM of an opened key, from its plaintext and form. */
export const keyPemOf = (plaintext: Buffer, keyForm: BodyEntry['keyForm']) =>
  keyForm === 'der' ? pemOf(plaintext, 'PRIVATE KEY') : plaintext.toString();
