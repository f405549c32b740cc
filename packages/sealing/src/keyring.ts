import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataKey } from './key-file.js';

/**
 * A sealed record: `cfseal1.<key id>.<iv>.<ciphertext>.<tag>`, base64url parts, AES-256-GCM.
 * The prefix can never begin a PEM block or JSON, so a store that holds records written before
 * sealing can tell the two apart while it rewrites them.
 */
const PREFIX = 'cfseal1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A record sealed under a key this process does not hold. */
export class UnknownKeyError extends Error {
  override readonly name = 'UnknownKeyError';
  constructor(readonly keyId: string) {
    super(
      `a record is sealed under key ${keyId}, which is not in the key file: put the key that sealed it back as a later line (keys are retired only after \`certfleet keys rotate\` has finished)`,
    );
  }
}

/** A record that fails authentication: altered, truncated, or sealed for another purpose. */
export class TamperedRecordError extends Error {
  override readonly name = 'TamperedRecordError';
}

export interface Keyring {
  /** The id of the key new records are sealed under. */
  readonly currentKeyId: string;
  /**
   * Seals `plaintext` for one purpose, e.g. `cert-key:shop.example`: the purpose is bound in as
   * associated data, so a record copied to another name or field fails to open.
   */
  seal(plaintext: string | Buffer, purpose: string): string;
  /** Opens a sealed record for the purpose it was sealed for. */
  open(record: string, purpose: string): Buffer;
  /** The key id a sealed record names; null for a value that is not sealed. */
  keyIdOf(value: string): string | null;
  /** Whether a value must be (re)sealed: not sealed, or sealed under a key other than the current one. */
  needsSealing(value: string): boolean;
}

export function isSealed(value: string): boolean {
  return value.startsWith(`${PREFIX}.`);
}

/** The version byte of a packed record: `cfseal1` as bytes. */
const PACKED_V1 = 1;
const KEY_ID_BYTES = 8;

/**
 * A sealed record in binary, for a store that keeps binary values (a certificate's body): a
 * quarter smaller than its text. `1 | key id (8) | iv (12) | tag (16) | data`.
 */
export function packSealed(record: string): Buffer {
  const parts = record.split('.');
  if (parts.length !== 5 || parts[0] !== PREFIX)
    throw new TamperedRecordError('not a sealed record (expected cfseal1.<key>.<iv>.<data>.<tag>)');
  const [, id, iv, body, tag] = parts as [string, string, string, string, string];
  return Buffer.concat([
    Buffer.from([PACKED_V1]),
    Buffer.from(id, 'hex'),
    Buffer.from(iv, 'base64url'),
    Buffer.from(tag, 'base64url'),
    Buffer.from(body, 'base64url'),
  ]);
}

/** The text form of a record {@link packSealed} packed. */
export function unpackSealed(packed: Buffer): string {
  const header = 1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES;
  if (packed.length < header || packed[0] !== PACKED_V1) throw new TamperedRecordError('not a packed sealed record');
  const at = (start: number, length: number) => packed.subarray(start, start + length);
  return [
    PREFIX,
    at(1, KEY_ID_BYTES).toString('hex'),
    at(1 + KEY_ID_BYTES, IV_BYTES).toString('base64url'),
    packed.subarray(header).toString('base64url'),
    at(1 + KEY_ID_BYTES + IV_BYTES, TAG_BYTES).toString('base64url'),
  ].join('.');
}

/** A keyring over `keys`, the first used to seal. */
export function createKeyring(keys: readonly DataKey[]): Keyring {
  const current = keys[0];
  if (!current) throw new Error('a keyring needs at least one key');
  const byId = new Map(keys.map((key) => [key.id, key.bytes]));
  const keyIdOf = (value: string) => (isSealed(value) ? (value.split('.', 3)[1] ?? null) : null);
  return {
    currentKeyId: current.id,
    seal(plaintext, purpose) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.bytes, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(purpose));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return [PREFIX, current.id, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join(
        '.',
      );
    },
    open(record, purpose) {
      const parts = record.split('.');
      if (parts.length !== 5 || parts[0] !== PREFIX)
        throw new TamperedRecordError('not a sealed record (expected cfseal1.<key>.<iv>.<data>.<tag>)');
      const [, id, iv, body, tag] = parts as [string, string, string, string, string];
      const key = byId.get(id);
      if (!key) throw new UnknownKeyError(id);
      const ivBytes = Buffer.from(iv, 'base64url');
      const tagBytes = Buffer.from(tag, 'base64url');
      if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES)
        throw new TamperedRecordError(`a record sealed under key ${id} is truncated`);
      const decipher = createDecipheriv('aes-256-gcm', key, ivBytes, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(purpose));
      decipher.setAuthTag(tagBytes);
      try {
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
      } catch (error) {
        throw new TamperedRecordError(
          `a record sealed under key ${id} does not open for "${purpose}": altered, or sealed for another purpose`,
          {
            cause: error,
          },
        );
      }
    },
    keyIdOf,
    needsSealing: (value) => keyIdOf(value) !== current.id,
  };
}
