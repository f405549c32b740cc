import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createStore, replicaAcknowledgement, type StoredCertificate } from '@certfleet/store';
import { startPlainRedis, type PlainRedis } from '../support/redis-topologies.js';
import { keyringOf, newKeyLine, writeKeyFile } from '../support/at-rest-keys.js';
import { newPrefix } from '../support/certfleet.js';
import { until } from '../support/wait.js';

const certificate = (name: string): StoredCertificate => ({
  name,
  names: [name],
  chainPem: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n',
  keyPem: '-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n',
  serial: '01',
  notBefore: Date.now(),
  notAfter: Date.now() + 86_400_000,
  issuer: 'test',
  issuedAt: Date.now(),
});

/** Certificates are sealed at rest: this test's own key, as a deployment's. */
const keyring = keyringOf(writeKeyFile([newKeyLine()]));

describe('a certificate save waits for a replica (WAIT, bounded)', () => {
  let master: PlainRedis;
  let replica: PlainRedis;
  let lone: PlainRedis;

  beforeAll(async () => {
    [master, lone] = await Promise.all([
      startPlainRedis('redis-wait-master', () => ['--repl-diskless-sync-delay', '0']),
      startPlainRedis('redis-wait-lone'),
    ]);
    // DEBUG SLEEP stalls the replica as a slow disk or a long GC pause would.
    replica = await startPlainRedis('redis-wait-replica', () => [
      '--replicaof',
      '127.0.0.1',
      String(master.port),
      '--enable-debug-command',
      'yes',
    ]);
    const probe = master.client();
    // connected_slaves counts a replica still waiting for its first sync; only an online one acknowledges.
    await until('the replica is online', async () => (await probe.info('replication')).includes('state=online'), 15_000, 50);
  });
  afterAll(async () => {
    await Promise.all([replica?.stop(), master?.stop(), lone?.stop()]);
  });

  it('returns only once the replica holds the certificate, even when the replica is slow', async () => {
    const redis = master.client();
    const store = createStore(redis, newPrefix(), { keyring, durability: replicaAcknowledgement(redis, { timeoutMs: 5_000 }) });
    const stalled = replica.client();
    // The replica answers nothing, and applies no replication stream, for 400 ms.
    const sleeping = stalled.call('DEBUG', 'SLEEP', '0.4');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = performance.now();
    await store.certificates.save(certificate('slow-replica.example.com'), Date.now() + 1_000);
    const elapsed = performance.now() - started;
    await sleeping;
    // Without the WAIT the save returns in a few ms, long before the replica wakes.
    expect(elapsed).toBeGreaterThan(300);
    expect(elapsed).toBeLessThan(2_000);
    const offsets = await master.client().info('replication');
    const masterOffset = Number(/master_repl_offset:(\d+)/.exec(offsets)?.[1]);
    const replicaOffset = Number(/slave0:.*offset=(\d+)/.exec(offsets)?.[1]);
    expect(replicaOffset).toBeGreaterThanOrEqual(masterOffset - 100);
  });

  it('gives up after the bound when the replica does not answer, and says so', async () => {
    const redis = master.client();
    const onUnacknowledged = vi.fn();
    const store = createStore(redis, newPrefix(), {
      keyring,
      durability: replicaAcknowledgement(redis, { timeoutMs: 500, onUnacknowledged }),
    });
    const sleeping = replica.client().call('DEBUG', 'SLEEP', '3');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = performance.now();
    await store.certificates.save(certificate('stalled-replica.example.com'), Date.now() + 1_000);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(1_500);
    expect(onUnacknowledged).toHaveBeenCalledWith({ replicas: 0, timeoutMs: 500 });
    await sleeping;
  });

  it('sends no WAIT to a server without replicas', async () => {
    const redis = lone.client();
    const store = createStore(redis, newPrefix(), { keyring, durability: replicaAcknowledgement(redis, { timeoutMs: 5_000 }) });
    await store.certificates.save(certificate('alone.example.com'), Date.now() + 1_000);
    expect(await redis.info('commandstats')).not.toContain('cmdstat_wait:');
    expect(await store.certificates.get('alone.example.com')).not.toBeNull();
  });
});
