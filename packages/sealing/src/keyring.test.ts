import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyFileError, keyFileSource, keyIdOf, parseKeyFile, type DataKey } from './key-file.js';
import { createKeyring, isSealed, packSealed, TamperedRecordError, UnknownKeyError, unpackSealed } from './keyring.js';

const newKey = (): DataKey => {
  const bytes = randomBytes(32);
  return { id: keyIdOf(bytes), bytes };
};
const PEM = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';

describe('keyring', () => {
  it('seals so that nothing of the plaintext shows, and opens it again for the same purpose', () => {
    const ring = createKeyring([newKey()]);
    const sealed = ring.seal(PEM, 'cert-key:shop.example');
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(sealed).not.toContain('MIGHAgEA');
    expect(ring.open(sealed, 'cert-key:shop.example').toString()).toBe(PEM);
    // A fresh IV each time: the same plaintext never seals to the same record.
    expect(ring.seal(PEM, 'cert-key:shop.example')).not.toBe(sealed);
  });

  it('refuses a record moved to another purpose (another name or field)', () => {
    const ring = createKeyring([newKey()]);
    const sealed = ring.seal(PEM, 'cert-key:shop.example');
    expect(() => ring.open(sealed, 'cert-key:evil.example')).toThrow(TamperedRecordError);
  });

  it('refuses an altered or truncated record', () => {
    const ring = createKeyring([newKey()]);
    const sealed = ring.seal(PEM, 'p');
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = (body[0] ?? 0) ^ 1;
    parts[3] = body.toString('base64url');
    expect(() => ring.open(parts.join('.'), 'p')).toThrow(TamperedRecordError);
    expect(() => ring.open(sealed.slice(0, -4), 'p')).toThrow(TamperedRecordError);
    expect(() => ring.open('not sealed', 'p')).toThrow(/not a sealed record/);
  });

  it('opens with every key, seals with the first, and says which records need re-sealing', () => {
    const [oldKey, freshKey] = [newKey(), newKey()];
    const before = createKeyring([oldKey]);
    const sealedBefore = before.seal(PEM, 'p');
    const after = createKeyring([freshKey, oldKey]);
    expect(after.open(sealedBefore, 'p').toString()).toBe(PEM);
    expect(after.keyIdOf(sealedBefore)).toBe(oldKey.id);
    expect(after.needsSealing(sealedBefore)).toBe(true);
    const resealed = after.seal(after.open(sealedBefore, 'p'), 'p');
    expect(after.keyIdOf(resealed)).toBe(freshKey.id);
    expect(after.needsSealing(resealed)).toBe(false);
    expect(after.needsSealing(PEM)).toBe(true);
    expect(after.keyIdOf(PEM)).toBeNull();
  });

  it('names the missing key and what to do when a record was sealed under a key no longer held', () => {
    const [gone, held] = [newKey(), newKey()];
    const sealed = createKeyring([gone]).seal(PEM, 'p');
    const error = (() => {
      try {
        createKeyring([held]).open(sealed, 'p');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UnknownKeyError);
    expect((error as UnknownKeyError).keyId).toBe(gone.id);
    expect((error as Error).message).toMatch(/put the key that sealed it back/);
  });
});

describe('packed records', () => {
  it('packs a sealed record into bytes a quarter smaller, naming the same key, and unpacks it to the same record', () => {
    const key = newKey();
    const sealed = createKeyring([key]).seal(PEM, 'p');
    const packed = packSealed(sealed);
    expect(packed.length).toBeLessThan(sealed.length * 0.8);
    expect(packed.includes(Buffer.from(key.id, 'hex'))).toBe(true);
    expect(unpackSealed(packed)).toBe(sealed);
    expect(() => unpackSealed(packed.subarray(0, 20))).toThrow(TamperedRecordError);
    expect(() => packSealed(PEM)).toThrow(/not a sealed record/);
  });
});

describe('key file', () => {
  const line = () => randomBytes(32).toString('base64');

  it('reads one key per line, skipping comments and blank lines, the first to seal with', () => {
    const [a, b] = [line(), line()];
    const keys = parseKeyFile(`# rotated 2026-12-02\n${a}\n\n${b}\n`, '/k');
    expect(keys.map((k) => k.id)).toEqual([keyIdOf(Buffer.from(a, 'base64')), keyIdOf(Buffer.from(b, 'base64'))]);
    expect(keys[0]!.id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('refuses what is not a 32-byte base64 key, naming the variable, the line and how to make one', () => {
    expect(() => parseKeyFile(`${line()}\nnot*base64\n`, '/k')).toThrow(
      /CERTFLEET_KEK_FILE \(\/k\) line 2 is not base64: make a key with `openssl rand -base64 32`/,
    );
    expect(() => parseKeyFile(randomBytes(16).toString('base64'), '/k')).toThrow(/line 1 holds 16 bytes, not 32/);
    expect(() => parseKeyFile('# nothing\n\n', '/k')).toThrow(/holds no key/);
    const same = line();
    expect(() => parseKeyFile(`${same}\n${same}\n`, '/k')).toThrow(/line 2 repeats an earlier key/);
  });

  it('loads from a file, and says how to make one when it cannot be read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'certfleet-kek-'));
    const path = join(dir, 'kek');
    await expect(keyFileSource(path).load()).rejects.toThrow(KeyFileError);
    await expect(keyFileSource(path).load()).rejects.toThrow(/cannot be read \(ENOENT\): make a key/);
    writeFileSync(path, `${line()}\n`);
    expect(await keyFileSource(path).load()).toHaveLength(1);
  });
});
