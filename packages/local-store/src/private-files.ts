import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';

/** The files LMDB keeps in its directory: the data and the readers' lock table. */
const LMDB_FILES = ['data.mdb', 'lock.mdb'] as const;

/**
 * Makes `dir` a directory only its owner can enter (0700), holding LMDB's files readable and
 * writable by the owner alone (0600), before LMDB opens them. LMDB creates missing files with
 * mode 0644, so they are created here first, empty (LMDB takes an empty file for a new
 * database); modes of existing ones are tightened, since they hold private keys. Throws (with
 * the path in the message) when the directory cannot be created or is not this user's.
 */
export function preparePrivateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  for (const file of LMDB_FILES) {
    const path = join(dir, file);
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
  }
}
