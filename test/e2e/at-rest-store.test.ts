import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, KeyringRequiredError, redisKeys, type StoredCertificate } from '@certfleet/store';
import { keyringOf, newKeyLine, writeKeyFile } from '../support/at-rest-keys.js';
import { newPrefix } from '../support/certfleet.js';
import { startRedis, type RedisServer } from '../support/redis.js';

const block = (body: string) => `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
const INTERMEDIATE = block('SU5URVJNRURJQVRFIENB');
const pemKey = (label: string) => `-----BEGIN PRIVATE KEY-----\n${Buffer.from(label).toString('base64')}\n-----END PRIVATE KEY-----\n`;

const cert = (name: string, serial: string): StoredCertificate => ({
  name,
  names: [name],
  chainPem: block(Buffer.from(`leaf ${name} ${serial}`).toString('base64')) + INTERMEDIATE,
  keyPem: pemKey(`key of ${name} ${serial}`),
  serial,
  notBefore: 1,
  notAfter: Date.now() + 86_400_000,
  issuer: 'test CA',
  issuedAt: 1,
});

const rsaOf = (serial: string) => ({
  chainPem: cert('rsa.example', serial).chainPem,
  keyPem: pemKey(`rsa ${serial}`),
  serial,
  notAfter: Date.now() + 86_400_000,
});

/** `redis` with `before` run once, just before the first GET of `key` answers (a renewal racing the rotation). */
function racing(redis: Redis, key: string, before: () => Promise<unknown>): Redis {
  let raced = false;
  return new Proxy(redis, {
    get(target, property, receiver) {
      if (property === 'getBuffer') {
        return async (wanted: string) => {
          const answer = await target.getBuffer(wanted);
          if (wanted === key && !raced) {
            raced = true;
            await before();
          }
          return answer;
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('the store at rest, against a real Redis', () => {
  let server: RedisServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('stores each intermediate chain once, by hash, and serves the full chain back', async () => {
    const prefix = newPrefix();
    const keys = redisKeys(prefix);
    const store = createStore(redis, prefix, { keyring: keyringOf(writeKeyFile([newKeyLine()])) });
    await store.certificates.save(cert('a.example', '01'), Date.now());
    await store.certificates.save({ ...cert('b.example', '02'), rsa: rsaOf('R2') }, Date.now());
    expect(await redis.keys(`${prefix}:chain:*`)).toHaveLength(1);
    const hash = await redis.hgetall(keys.cert('a.example'));
    expect(hash).not.toHaveProperty('chain');
    expect(hash).not.toHaveProperty('key');
    expect(await redis.get(keys.chain(hash.chainId as string))).toBe(INTERMEDIATE);
    // Small fields only: Redis keeps the hash in its compact encoding.
    expect(await redis.object('ENCODING', keys.cert('a.example'))).toBe('listpack');
    expect((await redis.getBuffer(keys.certBody('a.example')))?.toString('latin1')).not.toContain('PRIVATE KEY');
    // Another process, whose chain cache is empty, reads the whole chain.
    const other = createStore(redis, prefix, { keyring: keyringOf(writeKeyFile([newKeyLine()])) });
    expect(await other.certificates.describe('b.example')).toMatchObject({
      chainPem: cert('b.example', '02').chainPem,
      rsa: { chainPem: rsaOf('R2').chainPem, serial: 'R2' },
    });
    // Removing a name removes both its keys.
    await store.certificates.remove('b.example');
    expect(await redis.exists(keys.cert('b.example'), keys.certBody('b.example'))).toBe(0);
  });

  it('reads records written before sealing and rewrites them sealed, with the chain shared, at the next save', async () => {
    const prefix = newPrefix();
    const keys = redisKeys(prefix);
    const old = cert('old.example', '03');
    await redis.hset(keys.cert('old.example'), {
      chain: old.chainPem,
      key: old.keyPem,
      names: '["old.example"]',
      serial: '03',
      notAfter: '9',
    });
    await redis.set(
      keys.ticketKeys,
      JSON.stringify({ next: randomBytes(48).toString('base64'), current: randomBytes(48).toString('base64'), rotatedAt: Date.now() }),
    );
    const store = createStore(redis, prefix, { keyring: keyringOf(writeKeyFile([newKeyLine()])) });
    expect(await store.certificates.get('old.example')).toMatchObject({ chainPem: old.chainPem, keyPem: old.keyPem });
    expect((await store.ticketKeys.rotateIfDue(3_600_000)).current).toHaveLength(48);
    await store.certificates.save(old, Date.now());
    const hash = await redis.hgetall(keys.cert('old.example'));
    expect(hash).not.toHaveProperty('chain');
    expect(hash).not.toHaveProperty('key');
    expect(await redis.exists(keys.certBody('old.example'))).toBe(1);
    expect(await store.certificates.get('old.example')).toMatchObject({ chainPem: old.chainPem, keyPem: old.keyPem });
  });

  it('without a keyring, describes certificates but refuses to open or write key material, naming CERTFLEET_KEK_FILE', async () => {
    const prefix = newPrefix();
    await createStore(redis, prefix, { keyring: keyringOf(writeKeyFile([newKeyLine()])) }).certificates.save(cert('c.example', '04'), 1);
    const bare = createStore(redis, prefix);
    expect(await bare.certificates.describe('c.example')).toMatchObject({ serial: '04' });
    await expect(bare.certificates.get('c.example')).rejects.toThrow(KeyringRequiredError);
    await expect(bare.certificates.save(cert('d.example', '05'), 1)).rejects.toThrow(/CERTFLEET_KEK_FILE/);
    await expect(bare.ticketKeys.rotateIfDue(1_000)).rejects.toThrow(KeyringRequiredError);
    await expect(bare.challenges.putAlpn('c.example', { certPem: 'c', keyPem: pemKey('alpn') }, 1_000)).rejects.toThrow(
      KeyringRequiredError,
    );
  });

  it('re-seals every kind of record, keeps a tls-alpn-01 answer its TTL, and never undoes a renewal made during the rotation', async () => {
    const prefix = newPrefix();
    const keys = redisKeys(prefix);
    const lineA = newKeyLine();
    const lineB = newKeyLine();
    const storeA = createStore(redis, prefix, { keyring: keyringOf(writeKeyFile([lineA])) });
    const ringBA = keyringOf(writeKeyFile([lineB, lineA]));
    await storeA.certificates.save({ ...cert('renewed.example', '06'), rsa: rsaOf('R6') }, 1);
    await storeA.certificates.save(cert('steady.example', '07'), 1);
    await storeA.secrets.account('https://ca.example/dir', async () => pemKey('account'));
    await storeA.secrets.fallback(async () => ({ certPem: 'fallback cert', keyPem: pemKey('fallback') }));
    await storeA.challenges.putAlpn('alpn.example', { certPem: 'alpn cert', keyPem: pemKey('alpn') }, 60_000);
    const ticketsBefore = await storeA.ticketKeys.rotateIfDue(3_600_000);

    // The issuer renews renewed.example (under B) between the rotation's read and its write.
    const renewal = { ...cert('renewed.example', '08'), rsa: rsaOf('R8') };
    const issuerB = createStore(redis, prefix, { keyring: ringBA });
    const rotating = createStore(
      racing(redis, keys.certBody('renewed.example'), () => issuerB.certificates.save(renewal, 2)),
      prefix,
      {
        keyring: ringBA,
      },
    );
    const progress: number[] = [];
    const report = await rotating.resealAll({ every: 2, onProgress: (r) => progress.push(r.counts.certificate.seen) });
    expect(report.problems).toEqual([]);
    expect(report.counts).toMatchObject({
      certificate: { seen: 2, resealed: 1, current: 1, failed: 0 },
      account: { seen: 1, resealed: 1 },
      fallback: { seen: 1, resealed: 1 },
      'ticket-keys': { seen: 1, resealed: 1 },
      'alpn-challenge': { seen: 1, resealed: 1 },
    });
    expect(progress.length).toBeGreaterThanOrEqual(3);

    // Only B from now on: everything opens, and the renewal is what is stored.
    const storeB = createStore(redis, prefix, { keyring: keyringOf(writeKeyFile([lineB])) });
    expect(await storeB.certificates.get('renewed.example')).toMatchObject({
      serial: '08',
      keyPem: renewal.keyPem,
      rsa: { keyPem: pemKey('rsa R8') },
    });
    expect((await storeB.certificates.get('steady.example'))?.keyPem).toBe(cert('steady.example', '07').keyPem);
    expect((await storeB.secrets.account('https://ca.example/dir', async () => 'unused')).keyPem).toBe(pemKey('account'));
    expect((await storeB.secrets.fallback(async () => ({ certPem: '', keyPem: '' }))).keyPem).toBe(pemKey('fallback'));
    expect((await storeB.challenges.getAlpn('alpn.example'))?.keyPem).toBe(pemKey('alpn'));
    expect(await redis.pttl(keys.alpnChallenge('alpn.example'))).toBeGreaterThan(50_000);
    const ticketsAfter = await storeB.ticketKeys.rotateIfDue(3_600_000);
    expect(ticketsAfter).toEqual(ticketsBefore);

    // A second run finds everything current; a record moved to another name is reported, not fatal.
    await redis.hset(keys.cert('moved.example'), await redis.hgetall(keys.cert('steady.example')));
    await redis.set(keys.certBody('moved.example'), (await redis.getBuffer(keys.certBody('steady.example'))) as Buffer);
    const again = await storeB.resealAll();
    expect(again.counts.certificate).toEqual({ seen: 3, resealed: 0, current: 3, failed: 0 });
    const ringCB = keyringOf(writeKeyFile([newKeyLine(), lineB]));
    const third = await createStore(redis, prefix, { keyring: ringCB }).resealAll();
    expect(third.counts.certificate).toMatchObject({ seen: 3, resealed: 2, failed: 1 });
    expect(third.problems).toEqual([
      { key: keys.cert('moved.example'), reason: expect.stringMatching(/does not open for "cert-key:moved.example:ecdsa"/) },
    ]);
  });

  it('removes expired retired certificates behind more expired ones that were never retired', async () => {
    const store = createStore(redis, newPrefix('expired'), { keyring: keyringOf(writeKeyFile([newKeyLine()])) });
    const expired = (name: string, notAfter: number) => ({ ...cert(name, `s-${name}`), notAfter });
    // Five expired certificates whose renewals kept failing (not retired) come first in the inventory.
    for (let i = 0; i < 5; i += 1) await store.certificates.save(expired(`failing-${i}.example`, 1_000 + i), 0);
    for (let i = 0; i < 3; i += 1) {
      await store.certificates.save(expired(`retired-${i}.example`, 2_000 + i), 0);
      await store.certificates.retire(`retired-${i}.example`, 'idle', 'idle', 0);
    }
    expect(await store.certificates.removeExpiredRetired(Date.now(), 2)).toEqual(['retired-0.example', 'retired-1.example']);
    expect(await store.certificates.removeExpiredRetired(Date.now(), 2)).toEqual(['retired-2.example']);
    expect(await store.certificates.count()).toBe(5);
  });
});
