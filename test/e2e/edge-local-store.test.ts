import { X509Certificate } from 'node:crypto';
import { LocalCertificateStore } from '@certfleet/local-store';
import { createStore } from '@certfleet/store';
import { createSelfSignedCertificate } from '@certfleet/tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, edgeEnv, edgePorts, metric, startRole } from '../support/certfleet.js';
import type { Proc } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake, httpGet, httpsGet, normalSerial } from '../support/tls-client.js';
import { until } from '../support/wait.js';

const FALLBACK_SAN = 'DNS:certfleet-fallback.invalid';

/**
 * The edge's local certificate store (LMDB on local disk, shared by the edge's processes): what
 * one worker served, every worker serves while Redis hangs, and so does the edge restarted
 * during the hang; a certificate replaced while the edge was down is caught after a restart.
 */
describe("the edge's local certificate store", () => {
  let stack: Stack;
  const name = 'kept.example.com';

  beforeAll(async () => {
    stack = await startStack({ edges: 1, issuers: 1 });
    const added = await cli(['domains', 'add', name, 'fresh.example.com'], stack.env);
    expect(added.code, added.stderr).toBe(0);
    const issued = await handshake(stack.edges[0]!.ports.httpsPort, name, stack.rootPem);
    expect(issued.authorized, issued.authorizationError).toBe(true);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  /** Whether the edge's local store at `path` holds `name` (read from this process: LMDB is shared). */
  async function heldLocally(path: string, wanted: string): Promise<boolean> {
    const store = LocalCertificateStore.open({
      path,
      maxBytes: 256 * 1024 * 1024,
      owner: stack.prefix,
      keyring: stack.keyring,
      servedFlushMs: 0,
    });
    try {
      return store.has(wanted);
    } finally {
      await store.close();
    }
  }

  it('serves a name one worker served from every worker while Redis hangs, and again after a restart during the hang', async () => {
    const ports = await edgePorts();
    const env: NodeJS.ProcessEnv = { ...stack.env, ...edgeEnv(ports), EDGE_WORKERS: '2' };
    const path = env.EDGE_LOCAL_STORE_PATH as string;
    let edge: Proc = await startRole('edge', env, `edge-local-${stack.prefix}`);
    const redisPid = stack.redis.proc.child.pid as number;
    try {
      // Served once, by one worker: loaded from Redis and kept in the local store.
      const first = await httpsGet(ports.httpsPort, name, '/', stack.rootPem);
      expect(first.status).toBe(200);
      await until('the certificate in the local store', () => heldLocally(path, name), 5_000, 50);

      process.kill(redisPid, 'SIGSTOP');
      try {
        // Connections are dealt to both workers: the one that never saw the name serves it too.
        for (let i = 0; i < 50; i += 1) {
          const served = await httpsGet(ports.httpsPort, name, '/', stack.rootPem);
          expect(served).toEqual({ status: 200, body: 'hello from upstream\n', serial: first.serial });
        }
        expect(await metric(ports.metricsPort, 'certfleet_edge_certificates_served_total', { source: 'local' })).toBeGreaterThanOrEqual(1);
        expect(await metric(ports.metricsPort, 'certfleet_edge_certificates_served_total', { source: 'fallback' })).toBe(0);

        await edge.stop(30_000);
        edge = await startRole('edge', env, `edge-local-restarted-${stack.prefix}`);
        expect(edge.logs('Redis is not answering; serving the local store until it does').length).toBeGreaterThanOrEqual(1);
        for (let i = 0; i < 10; i += 1) {
          expect(await httpsGet(ports.httpsPort, name, '/', stack.rootPem)).toEqual({
            status: 200,
            body: 'hello from upstream\n',
            serial: first.serial,
          });
        }
        const readyz = await httpGet(ports.httpPort, '/readyz', 'probe');
        expect(readyz.status).toBe(503);
        expect(readyz.body).toMatch(/^not ready: Redis is/);

        // A name this edge never served: the fallback, at once.
        const started = performance.now();
        expect((await handshake(ports.httpsPort, 'fresh.example.com')).subjectaltname).toBe(FALLBACK_SAN);
        expect(performance.now() - started).toBeLessThan(3_000);
      } finally {
        process.kill(redisPid, 'SIGCONT');
      }
      await until('readyz after Redis resumes', async () => (await httpGet(ports.httpPort, '/readyz', 'probe')).status === 200, 30_000);
      // The edge started during the hang has its queue and subscriptions once Redis is back: a new name is issued through it.
      const issued = await until(
        'fresh.example.com issued through the restarted edge',
        async () => {
          const result = await handshake(ports.httpsPort, 'fresh.example.com', stack.rootPem);
          return result.authorized ? result : undefined;
        },
        60_000,
        1_000,
      );
      expect(issued.subjectaltname).toBe('DNS:fresh.example.com');
    } finally {
      await edge.stop();
    }
  }, 180_000);

  it('serves a certificate replaced while the edge was down from the next handshakes (or once Redis answers), and one replaced while it runs at once', async () => {
    const replaced = 'replaced.example.com';
    const redis = stack.redis.client();
    const store = createStore(redis, stack.prefix, { keyring: stack.keyring });
    /** Stores a new (self-signed) certificate for the name, as an issuer would; returns its serial. */
    const replace = async () => {
      const pair = await createSelfSignedCertificate({ commonName: replaced, validDays: 2 });
      const x509 = new X509Certificate(pair.certPem);
      const now = Date.now();
      await store.certificates.save(
        {
          name: replaced,
          names: [replaced],
          chainPem: pair.certPem,
          keyPem: pair.keyPem,
          serial: x509.serialNumber,
          notBefore: now,
          notAfter: Date.parse(x509.validTo),
          issuer: replaced,
          issuedAt: now,
        },
        now + 86_400_000,
      );
      return normalSerial(x509.serialNumber);
    };
    const servedSerial = async (port: number) => (await handshake(port, replaced)).serial;

    const ports = await edgePorts();
    const env: NodeJS.ProcessEnv = { ...stack.env, ...edgeEnv(ports) };
    const path = env.EDGE_LOCAL_STORE_PATH as string;
    const firstSerial = await replace();
    let edge: Proc = await startRole('edge', env, `edge-fresh-${stack.prefix}`);
    try {
      expect(await servedSerial(ports.httpsPort)).toBe(firstSerial);
      await until('the certificate in the local store', () => heldLocally(path, replaced), 5_000, 50);
      await edge.stop();

      // Replaced while the edge is down: its "changed" message reaches no one.
      const secondSerial = await replace();
      edge = await startRole('edge', env, `edge-fresh-restarted-${stack.prefix}`);
      // The first handshake may get the local copy (still valid); the check behind it catches up.
      await until(
        'the replacement served after the restart',
        async () => (await servedSerial(ports.httpsPort)) === secondSerial,
        10_000,
        100,
      );
      expect(edge.logs('certificate served from the local store was replaced in Redis; the new one is served from now on')).toHaveLength(1);

      // Replaced while it runs: the message drops both copies, the next handshake reads Redis.
      const thirdSerial = await replace();
      await until('the live replacement served', async () => (await servedSerial(ports.httpsPort)) === thirdSerial, 5_000, 50);
      await until(
        'the live replacement in the local store',
        async () => {
          const local = LocalCertificateStore.open({
            path,
            maxBytes: 256 * 1024 * 1024,
            owner: stack.prefix,
            keyring: stack.keyring,
            servedFlushMs: 0,
          });
          try {
            return local.get(replaced)?.serial === new X509Certificate((await store.certificates.get(replaced))!.chainPem).serialNumber;
          } finally {
            await local.close();
          }
        },
        5_000,
        50,
      );

      // Replaced while the edge is down, and the edge started while Redis hangs: it serves the
      // copy it holds (still valid), and the replacement once Redis answers again.
      await edge.stop();
      const fourthSerial = await replace();
      const redisPid = stack.redis.proc.child.pid as number;
      process.kill(redisPid, 'SIGSTOP');
      try {
        edge = await startRole('edge', env, `edge-fresh-hung-${stack.prefix}`);
        expect(await servedSerial(ports.httpsPort)).toBe(thirdSerial);
      } finally {
        process.kill(redisPid, 'SIGCONT');
      }
      await until(
        'the replacement served once Redis answers',
        async () => (await servedSerial(ports.httpsPort)) === fourthSerial,
        40_000,
        500,
      );
    } finally {
      await edge.stop();
      redis.disconnect();
    }
  }, 120_000);
});
