import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalCertificateStore } from '@certfleet/local-store';
import { createLogger } from '@certfleet/observability';
import type { StoredCertificate } from '@certfleet/store';
import { createLocalCertificates, LOCAL_RECHECK_MS } from './local-certificates.js';
import { createKeyring } from '@certfleet/sealing';

const DAY = 86_400_000;
const stores: LocalCertificateStore[] = [];
const locals: { stop(): void }[] = [];
afterEach(async () => {
  for (const local of locals.splice(0)) local.stop();
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

const certificate = (name: string, serial: string, now: number): StoredCertificate => ({
  name,
  names: [name],
  chainPem: `chain ${serial}`,
  keyPem: `key ${serial}`,
  serial,
  notBefore: now,
  notAfter: now + 30 * DAY,
  issuer: 'test CA',
  issuedAt: now,
});

/** Lets background work run, to show that it did NOT do something (what it does is awaited with vi.waitFor). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

function setup() {
  let now = 1_700_000_000_000;
  const store = LocalCertificateStore.open({
    path: join(mkdtempSync(join(tmpdir(), 'certfleet-edge-local-')), 'store'),
    maxBytes: 8 * 1024 * 1024,
    owner: 'test',
    keyring: createKeyring([{ id: 'test', bytes: randomBytes(32) }]),
    servedFlushMs: 0,
    clock: () => now,
  });
  stores.push(store);
  const redis = new Map<string, StoredCertificate>();
  const reads: string[] = [];
  const replaced: string[] = [];
  let connected = true;
  /** When set, a Redis read waits for it (to race a "changed" message against it). */
  let gate: Promise<void> | undefined;
  const read = (which: string) => async (name: string) => {
    reads.push(`${which} ${name}`);
    await gate;
    return redis.get(name) ?? null;
  };
  const local = createLocalCertificates({
    store,
    certificates: { get: read('handshake') },
    background: { get: read('background') },
    redisConnected: () => connected,
    onReplaced: (name) => replaced.push(name),
    logger: createLogger({ role: 'edge', level: 'silent' }),
    clock: () => now,
  });
  locals.push(local);
  return {
    local,
    store,
    redis,
    reads,
    replaced,
    now: () => now,
    advance: (ms: number) => (now += ms),
    disconnect: () => (connected = false),
    reconnect: () => (connected = true),
    hold: () => {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

describe("the edge's local certificates", () => {
  it('keeps what a miss read from Redis, and serves it from then on without waiting for Redis', async () => {
    const t = setup();
    t.redis.set('shop.example', certificate('shop.example', 'A1', t.now()));
    expect((await t.local.load('shop.example'))?.serial).toBe('A1');
    await vi.waitFor(() => expect(t.store.has('shop.example')).toBe(true));
    t.disconnect();
    expect(t.local.get('shop.example')?.serial).toBe('A1');
    expect(t.local.has('shop.example')).toBe(true);
    // Confirmed by the load: no check against Redis.
    expect(t.reads).toEqual(['handshake shop.example']);
  });

  it('catches a certificate replaced while the edge was down on the first handshake after the restart', async () => {
    const t = setup();
    await t.store.put({ ...certificate('shop.example', 'OLD', t.now()) });
    t.redis.set('shop.example', certificate('shop.example', 'NEW', t.now()));
    // Served at once from the local store; the check runs behind it.
    expect(t.local.get('shop.example')?.serial).toBe('OLD');
    await vi.waitFor(() => expect(t.replaced).toEqual(['shop.example']));
    expect(t.reads).toEqual(['background shop.example']);
    expect(t.local.get('shop.example')?.serial).toBe('NEW');
    // Confirmed now: no second check within the recheck period.
    await settle();
    expect(t.reads).toHaveLength(1);
  });

  it('drops a local certificate Redis no longer holds', async () => {
    const t = setup();
    await t.store.put(certificate('gone.example', 'A1', t.now()));
    expect(t.local.get('gone.example')).toBeDefined();
    await vi.waitFor(() => expect(t.replaced).toEqual(['gone.example']));
    expect(t.local.get('gone.example')).toBeUndefined();
  });

  it('checks again only after the recheck period, and not at all while Redis is disconnected', async () => {
    const t = setup();
    t.redis.set('shop.example', certificate('shop.example', 'A1', t.now()));
    await t.store.put(certificate('shop.example', 'A1', t.now()));
    t.local.get('shop.example');
    await vi.waitFor(() => expect(t.reads).toHaveLength(1));
    await settle();
    t.local.get('shop.example');
    await settle();
    expect(t.reads).toHaveLength(1);
    t.advance(LOCAL_RECHECK_MS);
    t.local.get('shop.example');
    await vi.waitFor(() => expect(t.reads).toHaveLength(2));
    t.advance(LOCAL_RECHECK_MS);
    t.disconnect();
    expect(t.local.get('shop.example')?.serial).toBe('A1');
    await settle();
    expect(t.reads).toHaveLength(2);
  });

  it('checks a name served while Redis could not be asked once it answers again', async () => {
    const t = setup();
    await t.store.put(certificate('shop.example', 'OLD', t.now()));
    t.redis.set('shop.example', certificate('shop.example', 'NEW', t.now()));
    t.disconnect();
    expect(t.local.get('shop.example')?.serial).toBe('OLD');
    await settle();
    expect(t.reads).toEqual([]);
    t.reconnect();
    await t.local.checkPending();
    expect(t.reads).toEqual(['background shop.example']);
    expect(t.replaced).toEqual(['shop.example']);
    await t.local.checkPending();
    expect(t.reads).toHaveLength(1);
  });

  it('drops its copy on a "changed" message, and does not keep a read that the message overtook', async () => {
    const t = setup();
    t.redis.set('shop.example', certificate('shop.example', 'OLD', t.now()));
    await t.local.load('shop.example');
    await vi.waitFor(() => expect(t.store.has('shop.example')).toBe(true));
    t.local.changed('shop.example');
    await vi.waitFor(() => expect(t.store.has('shop.example')).toBe(false));

    const release = t.hold();
    const loading = t.local.load('shop.example');
    t.local.changed('shop.example');
    release();
    expect((await loading)?.serial).toBe('OLD');
    await settle();
    expect(t.local.get('shop.example')).toBeUndefined();
  });

  it('never serves an expired certificate from the local store', async () => {
    const t = setup();
    await t.store.put(certificate('shop.example', 'A1', t.now()));
    t.advance(30 * DAY);
    expect(t.local.get('shop.example')).toBeUndefined();
  });
});
