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

/** What `domains import` reads, with what the progress line needs to say how far it got. */
export interface ImportSource {
  input: Readable;
  /** Bytes in the file; undefined for standard input (and an empty file). */
  size: number | undefined;
  /** Bytes read so far (a little ahead of the lines handled: the reader buffers). */
  bytesRead(): number;
}

/**
 * The lines to import: standard input for `-`, else the file, opened before anything else runs
 * so a wrong path fails at once with the path and what to do (issue 13: it was a raw ENOENT,
 * after connecting to Redis). A directory opens fine on Linux and fails at the first read:
 * it is checked here too.
 */
export async function openImportSource(file: string): Promise<ImportSource> {
  if (file === '-') return { input: process.stdin, size: undefined, bytesRead: () => 0 };
  try {
    const handle = await open(file, 'r');
    let size: number;
    try {
      const stats = await handle.stat();
      if (stats.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      size = stats.size;
    } catch (error) {
      await handle.close();
      throw error;
    }
    const input = handle.createReadStream();
    return { input, size: size > 0 ? size : undefined, bytesRead: () => input.bytesRead };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const why = REMEDIES[code] ?? `${(error as Error).message}`;
    throw new UsageError(`cannot read the import file "${file.slice(0, 200)}": ${why}`, { cause: error });
  }
}
