import { ConfigError } from '@certfleet/config';
import { isSealed, type Keyring } from '@certfleet/sealing';

/** The variable that names the key file, and how to make one: said by every error about a missing keyring. */
const KEK_FILE_HINT =
  'set CERTFLEET_KEK_FILE to a file of keys (make one: `openssl rand -base64 32 > /path; CERTFLEET_KEK_FILE=/path`), the same file the issuers and edges use';

/** A store made without a keyring met a sealed record, or was asked to write a private key. */
export class KeyringRequiredError extends ConfigError {
  constructor(what: string) {
    super('CERTFLEET_KEK_FILE', `${what} needs the fleet's at-rest key: ${KEK_FILE_HINT}`);
  }
}

/**
 * What each sealed record is sealed for: bound into the record as associated data, so a record
 * copied to another name, key type or kind of secret fails to open instead of serving the wrong key.
 */
export const purposes = {
  certKey: (name: string, keyType: 'ecdsa' | 'rsa') => `cert-key:${name}:${keyType}`,
  accountKey: (directoryUrl: string) => `acme-account-key:${directoryUrl}`,
  fallbackKey: 'fallback-key',
  /** The same for next, current and previous: the rotation script moves them between slots. */
  ticketKey: 'tls-ticket-key',
  alpnKey: (name: string) => `alpn-challenge-key:${name}`,
} as const;

/**
 * Sealing as the stores use it. Records written before sealing (plain PEM, base64) still open
 * (they are rewritten sealed at the next write, or by `certfleet keys rotate`); without a
 * keyring, a sealed record cannot be opened and nothing can be sealed: both say what to set.
 */
export interface SealedValues {
  seal(plaintext: string | Buffer, purpose: string): string;
  /** The plaintext of `value`: opened when sealed, as stored when written before sealing. */
  open(value: string, purpose: string): string;
  openBytes(value: string, purpose: string, legacy: (value: string) => Buffer): Buffer;
}

export function sealedValues(keyring: Keyring | undefined): SealedValues {
  const ring = (what: string) => {
    if (!keyring) throw new KeyringRequiredError(what);
    return keyring;
  };
  return {
    seal: (plaintext, purpose) => ring(`writing ${purpose}`).seal(plaintext, purpose),
    open: (value, purpose) => (isSealed(value) ? ring(`reading ${purpose}`).open(value, purpose).toString() : value),
    openBytes: (value, purpose, legacy) => (isSealed(value) ? ring(`reading ${purpose}`).open(value, purpose) : legacy(value)),
  };
}
