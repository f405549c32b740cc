import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { createStore } from '@certfleet/store';
import { createSelfSignedCertificate } from '@certfleet/tls';
import { cli, edgeEnv, edgePorts, startRole } from '../support/certfleet.js';
import { ordersFor } from '../support/pebble.js';
import { startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';
import { handshake, httpGet, httpsGet } from '../support/tls-client.js';
import { issueQueue } from '../support/queue.js';

const FALLBACK_CN_SAN = 'DNS:certfleet-fallback.invalid';

describe('a certificate on the first request, over the queue, from a real ACME CA', () => {
  let stack: Stack;
  let edgeA: Stack['edges'][number];
  let edgeB: Stack['edges'][number];

  beforeAll(async () => {
    stack = await startStack({ edges: 2, issuers: 2 });
    [edgeA, edgeB] = stack.edges as [typeof edgeA, typeof edgeB];
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const allow = async (...names: string[]) => {
    const result = await cli(['domains', 'add', ...names], stack.env);
    expect(result.code, result.stderr).toBe(0);
  };

  it('serves the upstream over a chain that verifies against the CA root on the first request', async () => {
    await allow('shop.example.com');
    const response = await httpsGet(edgeA.ports.httpsPort, 'shop.example.com', '/', stack.rootPem);
    expect(response.status).toBe(200);
    expect(response.body).toBe('hello from upstream\n');
    await stack.pebble.waitForIssued(response.serial);
    expect(ordersFor(stack.pebble, 'shop.example.com')).toBe(1);
  });

  it('serves the same certificate from Redis on a second edge, with no new order', async () => {
    const first = await handshake(edgeA.ports.httpsPort, 'shop.example.com', stack.rootPem);
    const ordersBefore = stack.pebble.orderCount();
    const second = await handshake(edgeB.ports.httpsPort, 'shop.example.com', stack.rootPem);
    expect(second.authorized).toBe(true);
    expect(second.serial).toBe(first.serial);
    expect(stack.pebble.orderCount()).toBe(ordersBefore);
    expect(ordersFor(stack.pebble, 'shop.example.com')).toBe(1);
  });

  it('makes exactly one order for 20 concurrent handshakes on two edges, and all 20 get the certificate', async () => {
    const name = 'burst.example.com';
    await allow(name);
    const ordersBefore = stack.pebble.orderCount();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => handshake((i % 2 ? edgeB : edgeA).ports.httpsPort, name, stack.rootPem)),
    );
    expect(results.every((r) => r.authorized)).toBe(true);
    expect(new Set(results.map((r) => r.serial)).size).toBe(1);
    expect(results[0]?.subjectaltname).toBe(`DNS:${name}`);
    await stack.pebble.waitForIssued(results[0]?.serial ?? '');
    expect(stack.pebble.orderCount() - ordersBefore).toBe(1);
    expect(ordersFor(stack.pebble, name)).toBe(1);
  });

  it('serves the fallback certificate to a name that is not allowed, and the CA sees no order', async () => {
    const ordersBefore = stack.pebble.orderCount();
    const result = await handshake(edgeA.ports.httpsPort, 'stranger.example.com', stack.rootPem);
    expect(result.authorized).toBe(false);
    expect(result.subjectaltname).toBe(FALLBACK_CN_SAN);
    // Allowed under another prefix on the same Redis: still not allowed here.
    const other = await cli(['domains', 'add', 'stranger.example.com'], { ...stack.env, CERTFLEET_PREFIX: `${stack.prefix}-other` });
    expect(other.code).toBe(0);
    const again = await handshake(edgeB.ports.httpsPort, 'stranger.example.com', stack.rootPem);
    expect(again.subjectaltname).toBe(FALLBACK_CN_SAN);
    expect(stack.pebble.orderCount()).toBe(ordersBefore);
    expect(ordersFor(stack.pebble, 'stranger.example.com')).toBe(0);
  });

  it('has the http-01 challenge answered by an edge that did not enqueue the job', async () => {
    const name = 'relay.example.com';
    await allow(name);
    const answeredByA = edgeA.proc.logs('answered http-01 challenge').length;
    const answeredByB = edgeB.proc.logs('answered http-01 challenge').length;
    // The handshake reaches edge B, which enqueues; Pebble validates against edge A's HTTP port.
    const result = await handshake(edgeB.ports.httpsPort, name, stack.rootPem);
    expect(result.authorized).toBe(true);
    expect(edgeA.proc.logs('answered http-01 challenge').length).toBeGreaterThan(answeredByA);
    expect(edgeB.proc.logs('answered http-01 challenge').length).toBe(answeredByB);
  });

  it('serves the fallback with no Redis command and no job to a client that sends no SNI or an invalid one', async () => {
    // No ready check: its INFO would race with MONITOR's output on the duplicated connection.
    const redis = new Redis(stack.redis.port, '127.0.0.1', { enableReadyCheck: false });
    const monitor = await redis.monitor();
    const commands: { address: string; args: string[] }[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => commands.push({ address: source, args }));
    try {
      const clients = (await new Redis(stack.redis.port).client('LIST')) as string;
      const edgeAddresses = clients
        .split('\n')
        .filter((line) => /name=certfleet-edge( |$)/.test(line))
        .map((line) => /addr=(\S+)/.exec(line)?.[1] ?? '');
      expect(edgeAddresses.length).toBeGreaterThan(0);
      const waitingBefore = await jobCounts(stack);
      for (const servername of [
        undefined,
        'bad_name.example.com',
        '127.0.0.1',
        'localhost',
        'a..b.example',
        '*.example.com',
        'x'.repeat(300),
      ]) {
        for (const edge of [edgeA, edgeB]) {
          const result = await handshake(edge.ports.httpsPort, servername, stack.rootPem);
          expect(result.subjectaltname).toBe(FALLBACK_CN_SAN);
        }
      }
      // A marker through Redis after the handshakes: MONITOR streams commands in the order Redis
      // ran them, so once the marker is seen, any command an edge sent during them has been too.
      const marker = `after-handshakes-${Date.now()}`;
      const probe = new Redis(stack.redis.port, '127.0.0.1');
      await probe.echo(marker);
      probe.disconnect();
      await until('the marker through MONITOR', () => commands.some((c) => c.args.includes(marker)), 5_000, 20);
      expect(commands.filter((c) => edgeAddresses.includes(c.address))).toEqual([]);
      expect(await jobCounts(stack)).toEqual(waitingBefore);
    } finally {
      monitor.disconnect();
      redis.disconnect();
    }
  });

  it('shares one ACME account between issuers that started together', () => {
    const accounts = stack.issuers.map((issuer) => issuer.logs('ACME account ready')[0]?.account);
    expect(accounts).toHaveLength(2);
    expect(accounts[0]).toBeTruthy();
    expect(accounts[1]).toBe(accounts[0]);
    expect(stack.pebble.pebble.lines.some((line) => /There are now [2-9]\d* accounts/.test(line))).toBe(false);
  });

  it('sets X-Forwarded-For/Proto/Host itself, replacing what the client sent', async () => {
    const response = await httpsGet(edgeA.ports.httpsPort, 'shop.example.com', '/echo-headers', stack.rootPem, {
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-host': 'evil.example',
    });
    const headers = JSON.parse(response.body) as Record<string, string>;
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-forwarded-host']).toBe(`shop.example.com:${edgeA.ports.httpsPort}`);
    expect(headers.host).toBe(`shop.example.com:${edgeA.ports.httpsPort}`);
  });

  it('proxies websockets to the upstream', async () => {
    // ws hands TLS options (servername, ca) to https.request.
    const options: WebSocket.ClientOptions & { servername: string } = {
      servername: 'shop.example.com',
      ca: stack.rootPem,
      headers: { host: 'shop.example.com' },
    };
    const socket = new WebSocket(`wss://127.0.0.1:${edgeB.ports.httpsPort}/ws`, options);
    const reply = await new Promise<string>((resolve, reject) => {
      socket.once('open', () => socket.send('ping'));
      socket.once('message', (data) => resolve(String(data)));
      socket.once('error', reject);
    });
    socket.close();
    expect(reply).toBe('echo: ping');
  });

  it('redirects plain HTTP to https on the same host, and answers /healthz', async () => {
    const redirect = await httpGet(edgeA.ports.httpPort, '/cart?id=1', `Shop.Example.com:${edgeA.ports.httpPort}`);
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe(`https://shop.example.com:${edgeA.ports.httpsPort}/cart?id=1`);
    expect((await httpGet(edgeA.ports.httpPort, '/', 'bad_host')).status).toBe(400);
    const unknownToken = await fetch(`http://127.0.0.1:${edgeA.ports.httpPort}/.well-known/acme-challenge/nope`);
    expect(unknownToken.status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${edgeA.ports.httpPort}/healthz`)).status).toBe(200);
  });

  it('serves a configured fallback certificate instead of the shared self-signed one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'certfleet-fallback-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '2',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-subj',
        '/CN=fallback.operator.example',
        '-addext',
        'subjectAltName=DNS:fallback.operator.example',
      ],
      { stdio: 'ignore' },
    );
    expect(readFileSync(join(dir, 'cert.pem'), 'utf8')).toContain('BEGIN CERTIFICATE');
    const ports = await edgePorts();
    const edge = await startRole(
      'edge',
      { ...stack.env, ...edgeEnv(ports), EDGE_FALLBACK_CERT_FILE: join(dir, 'cert.pem'), EDGE_FALLBACK_KEY_FILE: join(dir, 'key.pem') },
      `edge-${stack.prefix}-fallback`,
    );
    try {
      expect((await handshake(ports.httpsPort, undefined)).subjectaltname).toBe('DNS:fallback.operator.example');
      expect((await handshake(ports.httpsPort, 'nobody.example.com')).subjectaltname).toBe('DNS:fallback.operator.example');
      expect((await handshake(ports.httpsPort, 'shop.example.com', stack.rootPem)).authorized).toBe(true);
    } finally {
      expect((await edge.stop()).code).toBe(0);
    }
  });

  it('imports an allowlist file, and a *.suffix entry allows every name below it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'certfleet-import-'));
    const file = join(dir, 'domains.txt');
    writeFileSync(file, '# customers\n*.Customers.Example.NET\n\nexact.example.org  # one shop\nbad_name.example.org\n*.com\n');
    const imported = await cli(['domains', 'import', file], stack.env);
    expect(imported.code).toBe(1);
    expect(imported.stdout).toContain('imported 2 entries (2 new), skipped 2');
    expect(imported.stderr).toContain(`${file}:5: skipped "bad_name.example.org"`);
    expect(imported.stderr).toContain(`${file}:6: skipped "*.com": a single-label name cannot get a public certificate`);
    // Independent of each other once imported: asked together (each CLI call is a node start-up).
    const [deep, bare, explained, refused] = await Promise.all([
      handshake(edgeA.ports.httpsPort, 'deep.shop.customers.example.net', stack.rootPem),
      handshake(edgeA.ports.httpsPort, 'customers.example.net', stack.rootPem),
      cli(['domains', 'check', 'Other.Customers.example.net'], stack.env),
      cli(['domains', 'check', 'bad_name.example.org'], stack.env),
    ]);
    expect(deep.authorized).toBe(true);
    expect(bare.subjectaltname).toBe(FALLBACK_CN_SAN);
    expect(explained.stdout.trim()).toBe(
      'other.customers.example.net: allowed by allowlist: on the allowlist under "*.customers.example.net"',
    );
    expect(refused.code).toBe(1);
    expect(refused.stdout.trim()).toBe(
      'bad_name.example.org: denied by name: a host name has only letters, digits, hyphens and dots (rule: bad-characters)',
    );
  });

  it('never serves an expired certificate when a fresh one can be had: the name is issued anew', async () => {
    const name = 'expired.example.com';
    await allow(name);
    const oldDay = new Date(Date.now() - 3 * 86_400_000);
    const stale = await createSelfSignedCertificate({ commonName: name, validDays: 1, now: oldDay });
    const redis = new Redis(stack.redis.port, '127.0.0.1');
    try {
      await createStore(redis, stack.prefix, { keyring: stack.keyring }).certificates.save(
        {
          name,
          names: [name],
          chainPem: stale.certPem,
          keyPem: stale.keyPem,
          serial: 'EXPIRED',
          notBefore: oldDay.getTime(),
          notAfter: oldDay.getTime() + 86_400_000,
          issuer: name,
          issuedAt: oldDay.getTime(),
        },
        Date.now() + 86_400_000,
      );
    } finally {
      redis.disconnect();
    }
    const result = await handshake(edgeB.ports.httpsPort, name, stack.rootPem);
    expect(result.authorized).toBe(true);
    expect(result.issuer).toMatch(/^Pebble Intermediate CA/);
  });

  it('lists and shows stored certificates with the CLI', async () => {
    // Three reads, asked together.
    const [ls, show, missing] = await Promise.all([
      cli(['certs', 'ls'], stack.env),
      cli(['certs', 'show', 'SHOP.example.com.', '--json'], stack.env),
      cli(['certs', 'show', 'nothing.example.com'], stack.env),
    ]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/^NAME\s+SERIAL\s+NOT AFTER\s+STATE\s+ISSUER/);
    expect(ls.stdout).toContain('shop.example.com');
    expect(show.code, show.stderr).toBe(0);
    const shown = JSON.parse(show.stdout) as Record<string, unknown>;
    expect(shown.names).toEqual(['shop.example.com']);
    expect(shown.issuer).toMatch(/Pebble Intermediate CA/);
    expect(shown).not.toHaveProperty('keyPem');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no certificate is stored for nothing.example.com');
  });

  it('manages the allowlist with the CLI and refuses invalid names with the rule they broke', async () => {
    const add = await cli(['domains', 'add', 'Mixed.Example.COM.', 'bad_name.example.com'], stack.env);
    expect(add.code).toBe(1);
    expect(add.stderr).toContain('skipped "bad_name.example.com": a host name has only letters, digits, hyphens and dots');
    expect(add.stdout).toContain('added 1 entry');
    const ls = await cli(['domains', 'ls', '--json'], stack.env);
    expect(JSON.parse(ls.stdout)).toContain('mixed.example.com');
    const rm = await cli(['domains', 'rm', 'mixed.example.com'], stack.env);
    expect(rm.stdout).toContain('removed 1 entry');
    const after = await cli(['domains', 'ls', '--json'], stack.env);
    expect(JSON.parse(after.stdout)).not.toContain('mixed.example.com');
  });
});

async function jobCounts(stack: Stack) {
  const queue = issueQueue(stack.redis.port, stack.prefix);
  try {
    return await queue.getJobCounts();
  } finally {
    await queue.close();
  }
}
