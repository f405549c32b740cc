import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** CERTFLEET_KEK_FILE naming a fresh key file, for tests that load an edge's or an issuer's configuration. */
export function kekFileEnv(): { CERTFLEET_KEK_FILE: string } {
  const path = join(mkdtempSync(join(tmpdir(), 'certfleet-kek-')), 'kek');
  writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  return { CERTFLEET_KEK_FILE: path };
}
