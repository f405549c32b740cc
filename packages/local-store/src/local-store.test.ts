import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { createKeyring, keyIdOf, TamperedRecordError } from '@certfleet/sealing';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalCertificateStore, LocalStoreOwnerError, type LocalCertificate } from './index.js';

const DAY = 86_400_000;
const keyBytes = randomBytes(32);
const keyring = createKeyring([{ id: keyIdOf(keyBytes), bytes: keyBytes }]);
const opened: LocalCertificateStore[] = [];

function tempDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'certfleet-local-store-')), 'store');
}

function openStore(path: string, options: { maxBytes?: number; clock?: () => number; owner?: string } = {}): LocalCertificateStore {
  const store = LocalCertificateStore.open({
    path,
    maxBytes: options.maxBytes ?? 16 * 1024 * 1024,
    owner: options.owner ?? 'test',
    keyring,
    servedFlushMs: 0,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  opened.push(store);
  return store;
}

/** A certificate of a realistic size: an ECDSA chain of two certificates is about 1.9 KB of PEM. */
function cert(name: string, notAfter: number, serial = 'AB01'): LocalCertificate {
  return { name, chainPem: `chain of ${name} `.padEnd(1_900, 'x'), keyPem: `key of ${name} `.padEnd(240, 'k'), serial, notAfter };
}

const mode = (path: string) => statSync(path).mode & 0o777;

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close().catch(() => undefined)));
});

describe('LocalCertificateStore', () => {
  it('returns the certificate it was given, also after the store is closed and opened again', async () => {
    const path = tempDir();
    const first = openStore(path);
    const stored = {
      ...cert('shop.example.com', Date.now() + DAY),
      rsa: { chainPem: 'rsa chain', keyPem: 'rsa key', serial: 'CD02', notAfter: Date.now() + DAY },
    };
    await first.put(stored);
    expect(first.get('shop.example.com')).toEqual(stored);
    expect(first.get('other.example.com')).toBeUndefined();
    await first.close();
    opened.length = 0;

    const second = openStore(path);
    expect(second.get('shop.example.com')).toEqual(stored);
    expect(second.has('shop.example.com')).toBe(true);
  });

  it('replaces what it holds for a name and forgets a removed one', async () => {
    const store = openStore(tempDir());
    await store.put(cert('shop.example.com', Date.now() + DAY, 'OLD'));
    await store.put(cert('shop.example.com', Date.now() + 2 * DAY, 'NEW'));
    expect(store.get('shop.example.com')?.serial).toBe('NEW');
    expect(store.count).toBe(1);
    expect(await store.remove('shop.example.com')).toBe(true);
    expect(store.get('shop.example.com')).toBeUndefined();
    expect(await store.remove('shop.example.com')).toBe(false);
  });

  it('never returns an expired certificate, and drops an expired RSA twin', async () => {
    let now = Date.now();
    const store = openStore(tempDir(), { clock: () => now });
    await store.put({
      ...cert('shop.example.com', now + 10_000),
      rsa: { chainPem: 'rsa', keyPem: 'rsa key', serial: 'R1', notAfter: now + 5_000 },
    });
    await store.put(cert('gone.example.com', now - 1));
    expect(store.get('gone.example.com')).toBeUndefined();
    expect(store.get('shop.example.com')?.rsa?.serial).toBe('R1');

    now += 5_000;
    expect(store.get('shop.example.com')?.serial).toBe('AB01');
    expect(store.get('shop.example.com')?.rsa).toBeUndefined();
    now += 5_000;
    expect(store.get('shop.example.com')).toBeUndefined();
    expect(store.has('shop.example.com')).toBe(false);
  });

  it('keeps its directory 0700 and its files 0600, tightening looser ones it finds', async () => {
    const path = tempDir();
    mkdirSync(path, { recursive: true });
    chmodSync(path, 0o755);
    const store = openStore(path);
    await store.put(cert('shop.example.com', Date.now() + DAY));
    expect(mode(path)).toBe(0o700);
    expect(mode(join(path, 'data.mdb'))).toBe(0o600);
    expect(mode(join(path, 'lock.mdb'))).toBe(0o600);
    await store.close();
    opened.length = 0;

    chmodSync(join(path, 'data.mdb'), 0o644);
    openStore(path);
    expect(mode(join(path, 'data.mdb'))).toBe(0o600);
  });

  it('evicts the certificates served longest ago to stay within its size', async () => {
    let now = Date.now();
    const maxBytes = 512 * 1024;
    const evicted: number[] = [];
    const path = tempDir();
    const store = LocalCertificateStore.open({
      path,
      maxBytes,
      owner: 'test',
      keyring,
      servedFlushMs: 0,
      servedResolutionMs: 1_000,
      clock: () => now,
      onEvicted: (n) => evicted.push(n),
    });
    opened.push(store);
    // Each certificate takes one 4 KB overflow page: 512 KB hold about 125.
    for (let i = 0; i < 300; i += 1) {
      now += 2_000;
      await store.put(cert(`name-${i}.example.com`, now + DAY));
      // name-0 is served all along: it must outlive names stored after it.
      if (i % 10 === 0) {
        store.noteServed('name-0.example.com');
        await store.flushServed();
      }
    }
    expect(evicted.length).toBeGreaterThan(0);
    expect(store.usedBytes).toBeLessThanOrEqual(maxBytes);
    expect(statSync(join(path, 'data.mdb')).size).toBeLessThanOrEqual(maxBytes * 1.25);
    expect(store.get('name-299.example.com')).toBeDefined();
    expect(store.get('name-0.example.com')).toBeDefined();
    expect(store.get('name-1.example.com')).toBeUndefined();
    expect(store.count).toBeLessThan(125);
    expect(store.count).toBeGreaterThan(50);
  });

  it('keeps the fallback certificate across a reopen', async () => {
    const path = tempDir();
    const store = openStore(path);
    expect(store.fallback()).toBeUndefined();
    await store.saveFallback({ certPem: 'fallback cert', keyPem: 'fallback key' });
    await store.close();
    opened.length = 0;
    expect(openStore(path).fallback()).toEqual({ certPem: 'fallback cert', keyPem: 'fallback key' });
  });

  it('seals every private key it writes: the file holds none in clear, and a record moved to another name does not open', async () => {
    const path = tempDir();
    const store = openStore(path);
    await store.put({
      ...cert('shop.example.com', Date.now() + DAY),
      rsa: { chainPem: 'rsa chain', keyPem: 'RSA-KEY-IN-CLEAR', serial: 'CD02', notAfter: Date.now() + DAY },
    });
    await store.saveFallback({ certPem: 'fallback cert', keyPem: 'FALLBACK-KEY-IN-CLEAR' });
    expect(store.get('shop.example.com')?.rsa?.keyPem).toBe('RSA-KEY-IN-CLEAR');
    const file = readFileSync(join(path, 'data.mdb'), 'latin1');
    expect(file).toContain('chain of shop.example.com');
    for (const secret of ['key of shop.example.com', 'RSA-KEY-IN-CLEAR', 'FALLBACK-KEY-IN-CLEAR']) expect(file).not.toContain(secret);

    // Another process of the edge (the same environment) copies the record under another name.
    const raw = open({ path, maxDbs: 8 }).openDB<Record<string, unknown>, string>('certificates', { encoding: 'json' });
    await raw.put('evil.example.com', { ...raw.get('shop.example.com'), name: 'evil.example.com' });
    expect(() => store.get('evil.example.com')).toThrow(TamperedRecordError);
  });

  it('reads a key written before sealing, and seals it when the record is written again', async () => {
    const path = tempDir();
    const store = openStore(path);
    const raw = open({ path, maxDbs: 8 }).openDB<Record<string, unknown>, string>('certificates', { encoding: 'json' });
    const legacy = cert('old.example.com', Date.now() + DAY);
    await raw.put('old.example.com', { ...legacy, storedAt: Date.now() });
    expect(store.get('old.example.com')).toEqual(legacy);
    await store.put(legacy);
    expect(String(raw.get('old.example.com')?.keyPem)).toMatch(/^cfseal1\./);
    expect(store.get('old.example.com')).toEqual(legacy);
  });

  it("refuses a directory written for another deployment's prefix", async () => {
    const path = tempDir();
    await openStore(path, { owner: 'blue' }).close();
    opened.length = 0;
    expect(() => openStore(path, { owner: 'green' })).toThrow(LocalStoreOwnerError);
    expect(() => openStore(path, { owner: 'green' })).toThrow(/holds the certificates of "blue", not "green"/);
  });
});
