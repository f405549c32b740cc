import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyring, parseKeyFile, type Keyring } from '@certfleet/sealing';

/** A fresh at-rest key, as one line of a key file (what `openssl rand -base64 32` prints). */
export const newKeyLine = () => randomBytes(32).toString('base64');

/** A key file (0600) of `lines`, the first sealing; returns its path. */
export function writeKeyFile(lines: readonly string[], path = join(mkdtempSync(join(tmpdir(), 'certfleet-kek-')), 'kek')): string {
  writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600 });
  return path;
}

/** The keyring the roles make of the key file at `path`: for tests that read or write the store beside them. */
export function keyringOf(path: string): Keyring {
  return createKeyring(parseKeyFile(readFileSync(path, 'utf8'), path));
}
