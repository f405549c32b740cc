import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/certfleet.js';
import { startTlsRedis, type TlsRedis } from '../support/redis-topologies.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake } from '../support/tls-client.js';

describe('a deployment on a TLS-only Redis that requires client certificates (rediss://)', () => {
  let redis: TlsRedis;
  let stack: Stack;
  let tlsEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    redis = await startTlsRedis({ requireClientCertificate: true });
    tlsEnv = {
      REDIS_TLS_CA_FILE: redis.caFile,
      REDIS_TLS_CERT_FILE: redis.clientCertFile,
      REDIS_TLS_KEY_FILE: redis.clientKeyFile,
    };
    stack = await startStack({ externalRedisUrl: redis.url, env: tlsEnv });
  });
  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  it('issues a certificate on the first request, every role reaching Redis over TLS with its client certificate', async () => {
    const added = await cli(['domains', 'add', 'tls-redis.example.com'], stack.env);
    expect(added.code, added.stderr).toBe(0);
    const result = await handshake(stack.edges[0]!.ports.httpsPort, 'tls-redis.example.com', stack.rootPem);
    expect(result.authorized).toBe(true);
    expect(result.subjectaltname).toBe('DNS:tls-redis.example.com');
    const status = await cli(['domains', 'status', 'tls-redis.example.com'], stack.env);
    expect(status.stdout).toContain(result.serial);
  });

  it('the CLI without REDIS_TLS_CA_FILE stops at once, saying the certificate is not trusted and what to set', async () => {
    const { REDIS_TLS_CA_FILE: _ca, ...withoutCa } = stack.env;
    const started = Date.now();
    const result = await cli(['domains', 'ls'], withoutCa);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot use Redis at ${redis.url.replace(/\/$/, '')}`);
    expect(result.stderr).toContain("the server's TLS certificate is not trusted");
    expect(result.stderr).toContain('set REDIS_TLS_CA_FILE');
    // Not the 5 s command timeout: the first refused handshake ends the command.
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('the CLI without a client certificate stops at once, saying which variables to set', async () => {
    const { REDIS_TLS_CERT_FILE: _cert, REDIS_TLS_KEY_FILE: _key, ...withoutClientCert } = stack.env;
    const result = await cli(['domains', 'ls'], withoutClientCert);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE');
  });
});
