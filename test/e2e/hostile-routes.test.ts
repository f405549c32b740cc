import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, redisKeys } from '@certfleet/store';
import { cli, metric } from '../support/certfleet.js';
import { freePort } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';
import { httpsGet } from '../support/tls-client.js';
import { startNamedUpstream, type NamedUpstream } from '../support/upstream.js';
import { until } from '../support/wait.js';

const SUFFIX = 'hostile-routes.example';
// A name the customer controls, in challtestsrv's DNS: first on an allowed address, then rebound.
const REBOUND = 'rebound.customer.example';

/** One request for `name` (certificate not checked: the page is what is tested). */
function visit(port: number, name: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/', servername: name, headers: { host: name }, agent: false, rejectUnauthorized: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** An HTTP server on 127.0.0.1 that only counts what reaches it: a route must never get there. */
async function startTrap(port: number): Promise<{ hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.headers.host ?? ''}${req.url ?? ''}`);
    res.end('trapped\n');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('hostile routes: an edge keeps routes off loopback, metadata and its own network', () => {
  let stack: Stack;
  let redis: Redis;
  let port: number;
  let trap: Awaited<ReturnType<typeof startTrap>>;
  let allowed: NamedUpstream;

  beforeAll(async () => {
    port = await freePort();
    // The same port on two loopback addresses: 127.0.0.2 is allowed, 127.0.0.1 (the trap) is not.
    [trap, allowed] = await Promise.all([startTrap(port), startNamedUpstream('127.0.0.2', port)]);
    stack = await startStack({
      beforeRoles: ({ pebble }) => pebble.challtest('add-a', { host: `${REBOUND}.`, addresses: ['127.0.0.2'] }),
      env: (pebble) => ({
        // Not the stack's 127.0.0.0/8: only the one address of the allowed upstream.
        UPSTREAM_ALLOWED_NETWORKS: '127.0.0.2/32',
        UPSTREAM_DNS_SERVERS: pebble.dnsAddress,
        UPSTREAM_RESOLVE_INTERVAL: '1s',
      }),
    });
    redis = new Redis(stack.redis.url);
    expect((await cli(['domains', 'add', `*.${SUFFIX}`], stack.env)).code).toBe(0);
  });
  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
    await Promise.all([trap?.close(), allowed?.close()]);
  });

  const httpsPort = () => stack.edges[0]?.ports.httpsPort ?? 0;
  const edgeLogs = (msg: string) => stack.edges[0]?.proc.logs(msg) ?? [];
  /** Waits until `name` is served with its own certificate: routes are only used for such names. */
  const served = (name: string) =>
    until(`${name} served with its certificate`, () => httpsGet(httpsPort(), name, '/', stack.rootPem).catch(() => undefined), 60_000, 500);
  /** Writes a route straight into Redis, as anything with access to it could: no CLI check. */
  const setRouteInRedis = (name: string, url: string) => createStore(redis, stack.prefix).routes.set(name, url);
  /** The first answer that no longer comes from the default upstream (the route is followed). */
  const routed = (name: string) =>
    until(`${name}'s route followed`, async () => {
      const reply = await visit(httpsPort(), name);
      return reply.body.includes('hello from upstream') ? undefined : reply;
    });
  const refusedLogged = (address: string, range: string) =>
    until(`${address} refused as ${range}`, () =>
      edgeLogs('upstream address refused').some((r) => r.address === address && r.range === range),
    );

  it('answers 502 for a route written in Redis to a loopback address, and nothing reaches it', async () => {
    const name = `loopback.${SUFFIX}`;
    await served(name);
    await setRouteInRedis(name, `http://127.0.0.1:${port}`);
    const reply = await routed(name);
    expect(reply.status).toBe(502);
    expect(reply.body).toContain('cannot be reached');
    expect(reply.body).not.toContain('127.0.0.1');
    await refusedLogged('127.0.0.1', 'loopback');
    expect(trap.hits).toEqual([]);
    expect(
      await metric(stack.edges[0]?.ports.metricsPort ?? 0, 'certfleet_edge_proxy_answers_total', { answer: 'no-address' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('answers 502 for a route to the cloud metadata address, without dialling it', async () => {
    const name = `metadata.${SUFFIX}`;
    await served(name);
    await setRouteInRedis(name, 'http://169.254.169.254/latest/meta-data/');
    // 502 at once: a dial would have ended in a connect timeout (504) here, or in credentials on a cloud VM.
    const reply = await routed(name);
    expect(reply.status).toBe(502);
    expect(reply.body).toContain('cannot be reached');
    await refusedLogged('169.254.169.254', 'metadata');
  });

  it('drops an allowed host name once DNS rebinds it onto a refused address', async () => {
    const name = `rebinding.${SUFFIX}`;
    await served(name);
    await setRouteInRedis(name, `http://${REBOUND}:${port}`);
    const first = await routed(name);
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ server: '127.0.0.2' });

    await stack.pebble.challtest('clear-a', { host: `${REBOUND}.` });
    await stack.pebble.challtest('add-a', { host: `${REBOUND}.`, addresses: ['127.0.0.1'] });
    const after = await until(
      'rebinding caught',
      async () => {
        const reply = await visit(httpsPort(), name);
        return reply.status === 502 ? reply : undefined;
      },
      20_000,
    );
    expect(after.body).toContain('cannot be reached');
    await refusedLogged('127.0.0.1', 'loopback');
    expect(edgeLogs('upstream address refused').some((r) => String(r.upstream).startsWith(REBOUND))).toBe(true);
    expect(trap.hits).toEqual([]);
  });

  it('ignores a route written in Redis with credentials: the name goes to the default upstream', async () => {
    const name = `credentials.${SUFFIX}`;
    await served(name);
    // routes.set would refuse this URL: written key by key, then announced as routes.set does.
    const keys = redisKeys(stack.prefix);
    await redis.set(keys.route(name), 'http://admin:hunter2@127.0.0.2:1');
    await redis.publish(keys.routeChanged, name);
    const reply = await until('route ignored', async () => {
      const r = await visit(httpsPort(), name);
      return edgeLogs('route ignored: its URL is not usable; the name goes to the default upstream').some((l) => l.name === name)
        ? r
        : undefined;
    });
    expect(reply).toMatchObject({ status: 200, body: 'hello from upstream\n' });
    expect(JSON.stringify(edgeLogs('route ignored: its URL is not usable; the name goes to the default upstream'))).not.toContain(
      'hunter2',
    );
  });

  it('refuses `routes set` to a metadata, loopback or credential-carrying URL, saying why and what to do', async () => {
    const name = `cli.${SUFFIX}`;
    const metadata = await cli(['routes', 'set', name, 'http://169.254.169.254/'], stack.env);
    expect(metadata.code).toBe(1);
    expect(metadata.stderr).toContain(
      '"http://169.254.169.254/" is refused for a route: 169.254.169.254 is a cloud metadata address; no route may reach it, whatever UPSTREAM_ALLOWED_NETWORKS says',
    );
    const loopback = await cli(['routes', 'set', name, 'http://127.0.0.1:1/'], stack.env);
    expect(loopback.code).toBe(1);
    expect(loopback.stderr).toContain('"http://127.0.0.1:1/" is refused for a route: 127.0.0.1 is a loopback address');
    expect(loopback.stderr).toContain('list its network there');
    const credentials = await cli(['routes', 'set', name, 'http://admin:hunter2@127.0.0.2/'], stack.env);
    expect(credentials.code).toBe(1);
    expect(credentials.stderr).toContain('must not carry credentials');
    expect(credentials.stderr).not.toContain('hunter2');
    expect(JSON.parse((await cli(['routes', 'ls', '--json'], stack.env)).stdout)).not.toContainEqual(expect.objectContaining({ name }));

    // The CLI reads UPSTREAM_ALLOWED_NETWORKS as the edges do; metadata stays refused even so.
    const wide = { ...stack.env, UPSTREAM_ALLOWED_NETWORKS: '127.0.0.0/8,169.254.0.0/16' };
    expect((await cli(['routes', 'set', name, 'http://127.0.0.1:1/'], wide)).code).toBe(0);
    expect((await cli(['routes', 'set', name, 'http://169.254.169.254/'], wide)).code).toBe(1);
    const typo = await cli(['routes', 'set', name, 'http://127.0.0.1:1/'], { ...stack.env, UPSTREAM_ALLOWED_NETWORKS: '127.0.0.0/33' });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('UPSTREAM_ALLOWED_NETWORKS must be a comma-separated list of networks');
  });
});
