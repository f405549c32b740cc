import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { redisKeys } from '@certfleet/store';
import { cli, newPrefix, startRole } from '../support/certfleet.js';
import { freePort, REPO_ROOT, type Proc } from '../support/processes.js';
import { startPlainRedis, type PlainRedis } from '../support/redis-topologies.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake, httpsGet } from '../support/tls-client.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const ROLES = ['edge', 'issuer', 'renewer', 'dashboard', 'admin'] as const;
type User = (typeof ROLES)[number];
const DASHBOARD_TOKEN = 'acl-dashboard-token-0123456789';
const API_TOKEN = 'acl-api-token-0123456789abcdef';

/**
 * The walking skeleton with infra/redis/users.acl.template enforced: the file rendered by
 * infra/redis/render-acl.sh for this run's prefix and passwords, redis-server started with
 * --aclfile, each role connecting as its own user, the CLI as the admin user.
 */
describe('every role as its own Redis ACL user (infra/redis/users.acl.template)', () => {
  const prefix = newPrefix('acl');
  const passwords = Object.fromEntries(ROLES.map((role) => [role, randomBytes(12).toString('hex')])) as Record<User, string>;
  let redis: PlainRedis;
  let stack: Stack;
  let dashboard: Proc;
  let dashboardPort: number;
  let routed: Upstream;
  const urlOf = (user: User) => `redis://certfleet-${user}:${passwords[user]}@127.0.0.1:${redis.port}`;
  const clientOf = (user: User) => redis.client({ username: `certfleet-${user}`, password: passwords[user] });

  beforeAll(async () => {
    const rendered = execFileSync('sh', [join(REPO_ROOT, 'infra/redis/render-acl.sh'), prefix], {
      env: {
        ...process.env,
        ...Object.fromEntries(ROLES.map((role) => [`CERTFLEET_REDIS_PASSWORD_${role.toUpperCase()}`, passwords[role]])),
      },
      encoding: 'utf8',
    });
    redis = await startPlainRedis('redis-acl', (dir) => {
      const file = join(dir, 'users.acl');
      writeFileSync(file, rendered);
      return ['--aclfile', file];
    });
    const roleEnv = (user: User) => ({ REDIS_URL: urlOf(user) });
    [stack, routed] = await Promise.all([
      startStack({
        externalRedisUrl: urlOf('admin'),
        prefix,
        renewer: true,
        roleEnv: { edge: roleEnv('edge'), issuer: roleEnv('issuer'), renewer: roleEnv('renewer') },
      }),
      startUpstream(),
    ]);
    dashboardPort = await freePort();
    dashboard = await startRole(
      'dashboard',
      { ...stack.env, ...roleEnv('dashboard'), DASHBOARD_PORT: String(dashboardPort), DASHBOARD_TOKEN, API_TOKEN },
      `dashboard-${prefix}`,
    );
  });
  afterAll(async () => {
    await dashboard?.stop();
    await stack?.stop();
    await routed?.close();
    await redis?.stop();
  });

  it('issues a real certificate on the first request, routes set by the admin user, inventory on the dashboard', async () => {
    const added = await cli(['domains', 'add', 'acl.example.com'], stack.env);
    expect(added.code, added.stderr).toBe(0);
    const first = await handshake(stack.edges[0]!.ports.httpsPort, 'acl.example.com', stack.rootPem);
    expect(first.authorized).toBe(true);
    expect(first.subjectaltname).toBe('DNS:acl.example.com');

    const route = await cli(['routes', 'set', 'acl.example.com', routed.url], stack.env);
    expect(route.code, route.stderr).toBe(0);
    const response = await httpsGet(stack.edges[0]!.ports.httpsPort, 'acl.example.com', '/', stack.rootPem);
    expect(response.status).toBe(200);
    expect(routed.requests.length).toBe(1);

    const inventory = await fetch(`http://127.0.0.1:${dashboardPort}/api/certificates`, {
      headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` },
    });
    expect(inventory.status).toBe(200);
    expect(JSON.stringify(await inventory.json())).toContain(first.serial);

    // The hostname API, under the dashboard's user: a hostname's whole life, purge included.
    const api = async (method: string, path: string, body?: unknown) => {
      const answer = await fetch(`http://127.0.0.1:${dashboardPort}${path}`, {
        method,
        headers: { authorization: `Bearer ${API_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: answer.status, body: answer.status === 204 ? null : ((await answer.json()) as Record<string, unknown>) };
    };
    const created = await api('POST', '/v1/hostnames', {
      hostname: 'api.acl.example.com',
      upstream: routed.url,
      custom_metadata: { c: 1 },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await api('GET', '/v1/hostnames/acl.example.com')).body).toMatchObject({ status: 'active' });
    expect((await api('PATCH', '/v1/hostnames/api.acl.example.com', { retry: true })).status).toBe(200);
    expect((await api('GET', '/v1/hostnames?status=pending')).status).toBe(200);
    // One with a certificate, retired and then purged by the API.
    const gone = 'gone.acl.example.com';
    expect((await api('POST', '/v1/hostnames', { hostname: gone })).status).toBe(201);
    expect((await handshake(stack.edges[0]!.ports.httpsPort, gone, stack.rootPem)).authorized).toBe(true);
    expect((await api('DELETE', `/v1/hostnames/${gone}`)).body).toMatchObject({ status: 'retired', certificate: { status: 'active' } });
    expect((await api('DELETE', `/v1/hostnames/${gone}?purge=true`)).status).toBe(204);
    expect((await api('GET', `/v1/hostnames/${gone}`)).status).toBe(404);
    // No role hit a refusal on the way (each logs Redis errors at warn level): NOPERM for a
    // command or key, "can't run this command" for one inside a Lua script.
    for (const proc of [...stack.edges.map((e) => e.proc), ...stack.issuers, stack.renewer!, dashboard]) {
      expect(
        proc.lines.filter((line) => /NOPERM|no permissions|can't run this command/.test(line)),
        proc.name,
      ).toEqual([]);
    }
  });

  const refused = async (run: (client: Redis) => Promise<unknown>, user: User) => {
    const client = clientOf(user);
    await expect(run(client)).rejects.toThrow(/NOPERM/);
  };
  const keys = () => redisKeys(prefix);
  const accountKey = () => keys().account(stack.env.ACME_DIRECTORY_URL as string);

  it("refuses the edge's user route writes, certificate writes and the ACME account key", async () => {
    await refused((c) => c.set(keys().route('acl.example.com'), 'http://10.0.0.1/'), 'edge');
    await refused((c) => c.sadd(keys().routes, 'acl.example.com'), 'edge');
    await refused((c) => c.hset(keys().cert('acl.example.com'), 'serial', '00'), 'edge');
    await refused((c) => c.hgetall(accountKey()), 'edge');
    // What it may do: read a certificate and a route.
    const edge = clientOf('edge');
    expect(await edge.hget(keys().cert('acl.example.com'), 'serial')).toBeTruthy();
    expect(await edge.get(keys().route('acl.example.com'))).toBeTruthy();
  });

  it("refuses the dashboard's user the ACME account key, certificate keys, challenges, buckets and TLS secrets", async () => {
    // The account exists: the issuer wrote it.
    expect(await clientOf('admin').hexists(accountKey(), 'key')).toBe(1);
    await refused((c) => c.hgetall(accountKey()), 'dashboard');
    // It may purge a certificate's sealed key (its hostname's purge), never read one.
    await refused((c) => c.get(keys().certBody('acl.example.com')), 'dashboard');
    await refused((c) => c.set(keys().challenge('some-token'), 'x'), 'dashboard');
    await refused((c) => c.hset(keys().buckets.caOrders('pebble'), 'tokens', '1000'), 'dashboard');
    await refused((c) => c.get(keys().ticketKeys), 'dashboard');
    await refused((c) => c.get(keys().fallback), 'dashboard');
  });

  it("refuses route writes to every role but the admin and the dashboard's API, dangerous commands to all, and anonymous clients", async () => {
    for (const user of ['issuer', 'renewer'] as const) await refused((c) => c.set(keys().route('x.example.com'), 'http://10.0.0.1/'), user);
    for (const user of ROLES) {
      await refused((c) => c.flushall(), user);
      await refused((c) => c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru'), user);
      await refused((c) => c.keys('*'), user);
    }
    // Keys of another prefix on the same server.
    await refused((c) => c.get('other-prefix:route:{x}'), 'admin');
    const anonymous = redis.client();
    anonymous.on('error', () => undefined);
    await expect(anonymous.get(keys().route('acl.example.com'))).rejects.toThrow(/NOAUTH/);
  });
});
