import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** A 32-byte AES-256 key and the id every record sealed under it carries. */
export interface DataKey {
  /** 16 hex digits of the key's SHA-256: names the key in records without revealing it. */
  id: string;
  bytes: Buffer;
}

/** The variable that names the key file; every message about the file says it. */
export const KEK_FILE_VARIABLE = 'CERTFLEET_KEK_FILE';
const HOW_TO_MAKE_A_KEY = 'make a key with `openssl rand -base64 32`';

/** A key file that cannot be used: the message says which line and what to do. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

export const keyIdOf = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

/**
 * The keys of a key file: one base64 key of 32 bytes per line, the first used to seal and every
 * one to open (older keys stay below the new one until `certfleet keys rotate` has re-sealed
 * every record). Blank lines and lines starting with `#` are skipped.
 */
export function parseKeyFile(text: string, path: string): DataKey[] {
  const keys: DataKey[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${KEK_FILE_VARIABLE} (${path}) line ${index + 1}`;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(line)) {
      throw new KeyFileError(`${where} is not base64: ${HOW_TO_MAKE_A_KEY}, one key per line`);
    }
    const bytes = Buffer.from(line, 'base64');
    if (bytes.length !== 32) {
      throw new KeyFileError(`${where} holds ${bytes.length} bytes, not 32: ${HOW_TO_MAKE_A_KEY}`);
    }
    const id = keyIdOf(bytes);
    if (keys.some((key) => key.id === id)) throw new KeyFileError(`${where} repeats an earlier key: remove one of them`);
    keys.push({ id, bytes });
  }
  if (keys.length === 0) throw new KeyFileError(`${KEK_FILE_VARIABLE} (${path}) holds no key: ${HOW_TO_MAKE_A_KEY} and write it there`);
  return keys;
}

/**
 * Where the keys come from. A file today; a KMS later (AWS KMS, GCP KMS, Vault Transit) by the
 * same shape: it would keep a data key wrapped in the store and unwrap it here, once at
 * start-up, so sealing and opening stay synchronous and local on every request.
 */
export interface KeySource {
  /** Says where the keys come from, for logs and errors (never the keys). */
  readonly description: string;
  /** The keys, the one to seal with first. */
  load(): Promise<DataKey[]>;
}

export function keyFileSource(path: string): KeySource {
  return {
    description: `key file ${path}`,
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new KeyFileError(
          `${KEK_FILE_VARIABLE} names ${path}, which cannot be read (${code ?? String(error)}): ${HOW_TO_MAKE_A_KEY} > ${path}`,
          {
            cause: error,
          },
        );
      }
      return parseKeyFile(text, path);
    },
  };
}
