import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { UsageError } from './admin.js';

/** What to do about a file `domains import` cannot read, by the system's error code. */
const REMEDIES: Record<string, string> = {
  ENOENT: 'no such file: check the path (relative paths start from the current directory), or give - to read standard input',
  EACCES: 'permission denied: make the file readable by this user',
  EPERM: 'permission denied: make the file readable by this user',
  EISDIR: 'it is a directory: give the file inside it that lists the names, one a line',
  ENAMETOOLONG: 'the path is too long: give a shorter one',
  ELOOP: 'too many symbolic links: give the real path',
  ENOTDIR: 'a part of the path is not a directory: check the path',
};

/**
 * The lines to import: standard input for `-`, else the file, opened before anything else runs
 * so a wrong path fails at once with the path and what to do (issue 13: it was a raw ENOENT,
 * after connecting to Redis). A directory opens fine on Linux and fails at the first read:
 * it is checked here too.
 */
export async function openImportSource(file: string): Promise<Readable> {
  if (file === '-') return process.stdin;
  try {
    const handle = await open(file, 'r');
    try {
      if ((await handle.stat()).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    } catch (error) {
      await handle.close();
      throw error;
    }
    return handle.createReadStream();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const why = REMEDIES[code] ?? `${(error as Error).message}`;
    throw new UsageError(`cannot read the import file "${file.slice(0, 200)}": ${why}`, { cause: error });
  }
}
