import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type ConnectionOptions } from 'node:tls';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCertificateStore } from '@certfleet/local-store';
import { createStore, redisKeys } from '@certfleet/store';
import { createSelfSignedCertificate } from '@certfleet/tls';
import { keyringOf, newKeyLine, writeKeyFile } from '../support/at-rest-keys.js';
import { cli, edgeEnv, edgePorts, startRole } from '../support/certfleet.js';
import type { Proc } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';
import { normalSerial } from '../support/tls-client.js';
import { until } from '../support/wait.js';

const NAMES = ['sealed.example.com', 'sealed-too.example.com'];

/** A handshake offering only RSA (or ECDSA first); the served certificate's serial and whether it verified. */
function served(port: number, servername: string, ca: string, only: 'ecdsa' | 'rsa') {
  const options: ConnectionOptions = {
    host: '127.0.0.1',
    port,
    servername,
    ca,
    rejectUnauthorized: false,
    sigalgs: only === 'rsa' ? 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256' : 'ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256:rsa_pkcs1_sha256',
  };
  return new Promise<{ serial: string; authorized: boolean; keyType: string }>((resolve, reject) => {
    const socket = connect(options, () => {
      const cert = socket.getPeerCertificate();
      resolve({ serial: normalSerial(cert.serialNumber ?? ''), authorized: socket.authorized, keyType: cert.asn1Curve ? 'ecdsa' : 'rsa' });
      socket.end();
    });
    socket.setTimeout(30_000, () => socket.destroy(new Error('handshake timed out')));
    socket.once('error', reject);
  });
}

/** Every key of the Redis and every value in it, whatever its type (BullMQ's jobs and streams included), as one text. */
async function dumpRedis(redis: Redis): Promise<string> {
  const parts: string[] = [];
  for await (const batch of redis.scanStream({ count: 500 })) {
    for (const key of batch as string[]) {
      parts.push(key);
      const type = await redis.type(key);
      if (type === 'string') parts.push((await redis.getBuffer(key))?.toString('latin1') ?? '');
      else if (type === 'hash')
        parts.push(...Object.entries(await redis.hgetallBuffer(key)).flatMap(([f, v]) => [f, v.toString('latin1')]));
      else if (type === 'set') parts.push(...(await redis.smembers(key)));
      else if (type === 'list') parts.push(...(await redis.lrange(key, 0, -1)));
      else if (type === 'zset') parts.push(...(await redis.zrange(key, 0, -1)));
      else if (type === 'stream') parts.push(...(await redis.xrange(key, '-', '+')).flatMap(([id, fields]) => [id, ...fields]));
      else throw new Error(`the scan does not read Redis type ${type} (${key})`);
    }
  }
  return parts.join('\n');
}

/** The forms a secret could take in clear: its bytes as base64, base64url, hex, and (for a PEM) each line of its body. */
function clearForms(secret: Buffer | string): string[] {
  if (typeof secret === 'string') return secret.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----'));
  return [secret.toString('base64'), secret.toString('base64url'), secret.toString('hex'), secret.toString('hex').toUpperCase()];
}

describe('private keys and secrets at rest', () => {
  let stack: Stack;
  let redis: Redis;
  let edge: Proc | undefined;

  beforeAll(async () => {
    stack = await startStack({
      edges: 1,
      issuers: 1,
      // Both key types, and tls-alpn-01: the issuer seals the challenge key, the edge opens it.
      env: { ACME_CHALLENGE: 'tls-alpn-01', ACME_KEY_TYPES: 'ecdsa,rsa', EDGE_ISSUE_WAIT: '20s', EDGE_TICKET_KEY_ROTATE_INTERVAL: '3s' },
    });
    redis = new Redis(stack.redis.url);
    const added = await cli(['domains', 'add', ...NAMES], stack.env);
    expect(added.code, added.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    redis?.disconnect();
    await edge?.stop();
    await stack?.stop();
  });

  it('leaves no private key, ticket key or account key in clear in Redis (every type, BullMQ jobs too) or in the edge local store', async () => {
    const ports = await edgePorts();
    const env = { ...stack.env, ...edgeEnv(ports) };
    const localPath = env.EDGE_LOCAL_STORE_PATH as string;
    edge = await startRole('edge', env, `edge-at-rest-${stack.prefix}`);
    for (const name of NAMES) {
      expect(await served(stack.edges[0]!.ports.httpsPort, name, stack.rootPem, 'ecdsa')).toMatchObject({
        authorized: true,
        keyType: 'ecdsa',
      });
      // Through the second edge too: loaded from Redis and kept in its local store, RSA twin included.
      expect(await served(ports.httpsPort, name, stack.rootPem, 'rsa')).toMatchObject({ authorized: true, keyType: 'rsa' });
    }
    const local = LocalCertificateStore.open({ path: localPath, maxBytes: 256 * 1024 * 1024, owner: stack.prefix, keyring: stack.keyring });
    try {
      await until('both names in the local store', () => NAMES.every((name) => local.get(name)?.rsa !== undefined), 30_000, 100);
    } finally {
      await local.close();
    }
    // At least one ticket-key rotation since the edges started.
    const keys = redisKeys(stack.prefix);
    const rotatedAt = async () => JSON.parse((await redis.get(keys.ticketKeys)) ?? '{}').rotatedAt as number;
    const before = await rotatedAt();
    await until('a ticket-key rotation', async () => (await rotatedAt()) !== before, 20_000);

    // What the secrets are, read through the store with the fleet's keyring.
    const store = createStore(redis, stack.prefix, { keyring: stack.keyring });
    const certificates = await Promise.all(NAMES.map(async (name) => (await store.certificates.get(name))!));
    const tickets = await store.ticketKeys.rotateIfDue(3_600_000);
    const account = await store.secrets.account(stack.env.ACME_DIRECTORY_URL as string, async () => {
      throw new Error('the issuer made no account');
    });
    const fallback = await store.secrets.fallback(async () => {
      throw new Error('the edge made no fallback');
    });
    const secrets = [
      ...certificates.flatMap((cert) => [...clearForms(cert.keyPem), ...clearForms(cert.rsa?.keyPem ?? '')]),
      ...[tickets.next, tickets.current, tickets.previous ?? Buffer.alloc(0)].flatMap(clearForms),
      ...clearForms(account.keyPem),
      ...clearForms(fallback.keyPem),
    ];
    expect(certificates.every((cert) => cert.rsa !== undefined)).toBe(true);
    expect(tickets.previous).toBeDefined();
    expect(secrets.length).toBeGreaterThan(20);

    const dump = await dumpRedis(redis);
    expect(dump).toContain('bull'); // BullMQ's jobs were read too
    expect(dump).toContain('-----BEGIN CERTIFICATE-----'); // certificates are public, and were read
    const lmdb = readFileSync(`${localPath}/data.mdb`).toString('latin1');
    expect(lmdb).toContain('-----BEGIN CERTIFICATE-----');
    for (const [where, text] of [
      ['Redis', dump],
      ['the local store', lmdb],
    ] as const) {
      expect(text, where).not.toContain('PRIVATE KEY');
      for (const secret of secrets) expect(text.includes(secret), `${where} holds a secret in clear`).toBe(false);
    }
  }, 120_000);

  it('keys rotate re-seals every record under the new key while the edges serve, reports what it cannot open, and resumes', async () => {
    const keys = redisKeys(stack.prefix);
    const keyA = stack.keyring.currentKeyId;
    // A record written before sealing (plain PEM, whole chain), and one sealed under a key nobody holds.
    const legacy = await createSelfSignedCertificate({ commonName: 'legacy.example.com', validDays: 30 });
    await redis.hset(keys.cert('legacy.example.com'), {
      chain: legacy.certPem,
      key: legacy.keyPem,
      names: '["legacy.example.com"]',
      serial: '01',
      notAfter: String(Date.now() + 30 * 86_400_000),
    });
    const lost = writeKeyFile([newKeyLine()]);
    const now = Date.now();
    await createStore(redis, stack.prefix, { keyring: keyringOf(lost) }).certificates.save(
      {
        name: 'lost.example.com',
        names: ['lost.example.com'],
        chainPem: legacy.certPem,
        keyPem: legacy.keyPem,
        serial: '02',
        notBefore: now,
        notAfter: now + 30 * 86_400_000,
        issuer: 'legacy.example.com',
        issuedAt: now,
      },
      now + 86_400_000,
    );

    // The operator's steps: a new key first, the old one kept below it; roles restarted; then rotate.
    const keyLineA = readFileSync(stack.kekFile, 'utf8').trim();
    const keyLineB = newKeyLine();
    writeFileSync(stack.kekFile, `${keyLineB}\n${keyLineA}\n`);
    const keyB = keyringOf(stack.kekFile).currentKeyId;
    expect(keyB).not.toBe(keyA);
    await edge?.stop();
    await Promise.all([...stack.edges.map((e) => e.proc.stop()), ...stack.issuers.map((p) => p.stop())]);
    const ports = await edgePorts();
    edge = await startRole('edge', { ...stack.env, ...edgeEnv(ports) }, `edge-rotated-${stack.prefix}`);

    const rotated = await cli(['keys', 'rotate', '--every', '2'], stack.env);
    expect(rotated.code).toBe(1);
    expect(rotated.stdout).toContain(`re-sealing under key ${keyB}`);
    expect(rotated.stdout).toMatch(/progress: certificate: \d+ seen/);
    expect(rotated.stdout).toContain('certificate: 4 seen, 3 resealed, 0 current, 1 failed');
    expect(rotated.stderr).toContain(`could not re-seal ${keys.cert('lost.example.com')}: sealed under key`);
    expect(rotated.stdout).toContain('1 record(s) not re-sealed');

    // Every record that holds key material now names key B.
    const sealedUnder = (value: string | null | undefined) => value?.split('.')[1];
    for (const name of NAMES) {
      // The body packs each sealed key with the id of its key (8 bytes): ECDSA's and RSA's name B, none A.
      const body = (await redis.getBuffer(keys.certBody(name))) as Buffer;
      const occurrences = (id: string) => body.toString('latin1').split(Buffer.from(id, 'hex').toString('latin1')).length - 1;
      expect([occurrences(keyB), occurrences(keyA)], name).toEqual([2, 0]);
    }
    expect(sealedUnder(await redis.hget(keys.cert('legacy.example.com'), 'key'))).toBe(keyB);
    const [accountKey] = await redis.keys(`${stack.prefix}:acme-account:*`);
    expect(sealedUnder(await redis.hget(accountKey as string, 'key'))).toBe(keyB);
    expect(sealedUnder(JSON.parse((await redis.get(keys.fallback)) as string).keyPem)).toBe(keyB);
    const tickets = JSON.parse((await redis.get(keys.ticketKeys)) as string) as Record<string, string>;
    for (const slot of ['next', 'current', 'previous']) expect(sealedUnder(tickets[slot]), slot).toBe(keyB);

    // The edge started with B then A serves every name, ECDSA and RSA.
    for (const name of NAMES) {
      expect(await served(ports.httpsPort, name, stack.rootPem, 'ecdsa')).toMatchObject({ authorized: true, keyType: 'ecdsa' });
      expect(await served(ports.httpsPort, name, stack.rootPem, 'rsa')).toMatchObject({ authorized: true, keyType: 'rsa' });
    }

    // Run again: nothing left to do but the record nobody can open. Removed, then A retired from the file.
    const again = await cli(['keys', 'rotate'], stack.env);
    expect(again.stdout).toContain('certificate: 4 seen, 0 resealed, 3 current, 1 failed');
    await redis.del(keys.cert('lost.example.com'));
    const onlyB = writeKeyFile([keyLineB]);
    const withOnlyB = await cli(['keys', 'rotate'], { ...stack.env, CERTFLEET_KEK_FILE: onlyB });
    expect(withOnlyB.code, withOnlyB.stderr).toBe(0);
    expect(withOnlyB.stdout).toContain('certificate: 3 seen, 0 resealed, 3 current, 0 failed');
    expect(withOnlyB.stdout).toContain('every record is sealed under key');
    const store = createStore(redis, stack.prefix, { keyring: keyringOf(onlyB) });
    for (const name of [...NAMES, 'legacy.example.com']) expect((await store.certificates.get(name))?.keyPem).toContain('PRIVATE KEY');
    expect((await store.ticketKeys.rotateIfDue(3_600_000)).current).toHaveLength(48);

    // Commands that never touch key material need no key file; certs show prints no key.
    const noKeyFile = { ...stack.env, CERTFLEET_KEK_FILE: '' };
    const listed = await cli(['certs', 'ls'], noKeyFile);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(NAMES[0]);
    const shown = await cli(['certs', 'show', NAMES[0] as string, '--json', '--pem'], noKeyFile);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('BEGIN CERTIFICATE');
    expect(shown.stdout).not.toContain('PRIVATE KEY');
    expect(shown.stdout).not.toContain('cfseal1');
    const withoutKeys = await cli(['keys', 'rotate'], noKeyFile);
    expect(withoutKeys.code).toBe(2);
    expect(withoutKeys.stderr).toContain('CERTFLEET_KEK_FILE is required');
  }, 150_000);
});
