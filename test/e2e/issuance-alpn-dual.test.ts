import { connect, type ConnectionOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/certfleet.js';
import { until } from '../support/wait.js';
import { startStack, type Stack } from '../support/stack.js';
import { normalSerial } from '../support/tls-client.js';
import { issueQueue } from '../support/queue.js';
import { redisKeys } from '@certfleet/store';

/** What a client restricted to one key type gets: the certificate's key type and serial. */
function handshakeFor(port: number, servername: string, ca: string, only: 'ecdsa' | 'rsa', extra: ConnectionOptions = {}) {
  return new Promise<{ keyType: string; serial: string; authorized: boolean; error?: string; san?: string }>((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      servername,
      ca,
      rejectUnauthorized: false,
      // An older client that can verify only RSA signatures, or a current one that offers ECDSA
      // too (RSA stays in its list: the CA's own chain may be signed with RSA).
      sigalgs: only === 'rsa' ? 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256' : 'ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256:rsa_pkcs1_sha256',
      ...extra,
    });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      resolve({
        keyType: cert.asn1Curve ? 'ecdsa' : 'rsa',
        serial: normalSerial(cert.serialNumber),
        authorized: socket.authorized,
        ...(socket.authorizationError ? { error: String(socket.authorizationError) } : {}),
        san: cert.subjectaltname,
      });
      socket.end();
    });
    socket.once('error', reject);
  });
}

describe('tls-alpn-01, dual ECDSA + RSA certificates, and a CA that rejects 30 % of nonces', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      edges: 1,
      // Two orders per name, through a CA that rejects nonces: let a visitor wait for both.
      env: { ACME_CHALLENGE: 'tls-alpn-01', ACME_KEY_TYPES: 'ecdsa,rsa', EDGE_ISSUE_WAIT: '20s', EDGE_HANDSHAKE_TIMEOUT: '30s' },
      pebble: { env: { PEBBLE_WFE_NONCEREJECT: '30' } },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('validates over tls-alpn-01 on the edge, and serves ECDSA or RSA to clients that ask for each', async () => {
    const name = 'dual.example.com';
    await cli(['domains', 'add', name], stack.env);
    const port = stack.edges[0]!.ports.httpsPort;
    const ecdsa = await handshakeFor(port, name, stack.rootPem, 'ecdsa');
    expect(ecdsa).toMatchObject({ keyType: 'ecdsa', authorized: true, san: `DNS:${name}` });
    const rsa = await handshakeFor(port, name, stack.rootPem, 'rsa');
    expect(rsa).toMatchObject({ keyType: 'rsa', authorized: true });
    expect(rsa.serial).not.toBe(ecdsa.serial);
    // A TLS 1.2 client limited to RSA suites gets RSA too; one that can do both gets ECDSA.
    expect(
      await handshakeFor(port, name, stack.rootPem, 'rsa', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }),
    ).toMatchObject({ keyType: 'rsa', serial: rsa.serial });
    expect(await handshakeFor(port, name, stack.rootPem, 'ecdsa', { maxVersion: 'TLSv1.2' })).toMatchObject({
      keyType: 'ecdsa',
      serial: ecdsa.serial,
    });
    await stack.pebble.waitForIssued(rsa.serial);
    // Validated by tls-alpn-01 on the HTTPS port, never by http-01.
    const edge = stack.edges[0]!.proc;
    expect(edge.logs('answered tls-alpn-01 challenge').length).toBeGreaterThanOrEqual(2);
    expect(edge.logs('answered http-01 challenge')).toHaveLength(0);
    const status = (await cli(['domains', 'status', name], stack.env)).stdout;
    // The stored serial keeps the leading zeros a TLS client drops.
    expect(status).toMatch(new RegExp(`\\(\\+ RSA serial 0*${rsa.serial}\\)`));
  }, 60_000);

  it('issues every name through a CA that rejects 30 % of good nonces', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `nonce-${i}.example.com`);
    expect((await cli(['domains', 'add', '--issue', ...names], stack.env)).code).toBe(0);
    const redis = stack.redis.client();
    await until('every name issued', async () => (await redis.zcard(redisKeys(stack.prefix).inventory)) >= names.length + 1, 90_000, 500);
    const queue = issueQueue(stack.redis.port, stack.prefix);
    expect(await queue.getJobCountByTypes('failed')).toBe(0);
    await queue.close();
    expect(stack.pebble.pebble.lines.some((l) => l.includes('Configured to reject 30% of good nonces'))).toBe(true);
  }, 120_000);
});
