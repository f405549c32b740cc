import { request, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { connect, type SecureVersion } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { cli, metric } from '../support/certfleet.js';
import { h2Get } from '../support/h2-client.js';
import { freePort } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';
import { startNamedUpstream, type NamedUpstream } from '../support/upstream.js';
import { until } from '../support/wait.js';

const APP = 'app.upstream.example';
const OTHER_APP = 'other-app.upstream.example';
const HSTS = 'max-age=31536000; includeSubDomains';
// Nothing listens on this address: connections to it are refused.
const DEAD = '127.0.0.4';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The upstream that answered, when one did. */
  server: string | undefined;
}

type Protocol = 'http/1.1' | 'h2';
type Visit = (port: number, servername: string, host: string, path?: string, ca?: string) => Promise<Reply & { authorized: boolean }>;

const serverOf = (body: string): string | undefined => {
  try {
    return (JSON.parse(body) as { server?: string }).server;
  } catch {
    return undefined;
  }
};

/**
 * One HTTPS request to the edge on 127.0.0.1, with SNI `servername` ('' sends none) and Host
 * `host`; the certificate is not checked (the fallback is part of what is tested), whether it
 * was the real one is in `authorized` against `ca`. HTTP/1.1 (no ALPN offered).
 */
function visitHttp1(port: number, servername: string, host: string, path = '/', ca?: string): Promise<Reply & { authorized: boolean }> {
  const options: RequestOptions = {
    host: '127.0.0.1',
    port,
    path,
    servername,
    headers: { host: `${host}:${port}` },
    agent: false,
    rejectUnauthorized: false,
    ...(ca ? { ca } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = request(options, (res) => {
      let body = '';
      const authorized = (res.socket as import('node:tls').TLSSocket).authorized;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, server: serverOf(body), authorized }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The same over h2 (ALPN h2 only, a fresh connection each): `host` goes in :authority. */
const visitH2: Visit = async (port, servername, host, path = '/', ca) => {
  const reply = await h2Get(port, servername, `${host}:${port}`, path, { ca });
  return { status: reply.status, headers: reply.headers, body: reply.body, server: serverOf(reply.body), authorized: reply.authorized };
};

/**
 * One GET over a raw TLS connection that offers `session` (a ticket from an earlier
 * connection), so the request can ride a resumed session; resolves with the new ticket.
 */
interface SessionReply {
  reused: boolean;
  status: number;
  hsts: string | undefined;
  body: string;
  session: Buffer | undefined;
}

function getOnSessionHttp1(port: number, name: string, host: string, maxVersion: SecureVersion, session?: Buffer) {
  return new Promise<SessionReply>((resolve, reject) => {
    let ticket: Buffer | undefined;
    let reused = false;
    let text = '';
    const socket = connect({
      host: '127.0.0.1',
      port,
      servername: name,
      rejectUnauthorized: false,
      maxVersion,
      ...(session ? { session } : {}),
    });
    socket.setTimeout(30_000, () => socket.destroy(new Error('timed out')));
    socket.on('session', (s: Buffer) => (ticket = s));
    socket.once('secureConnect', () => {
      reused = socket.isSessionReused();
      // HTTP/1.0: the body comes whole, delimited by the end of the connection (no chunks to decode).
      socket.write(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    socket.once('end', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const hsts = /^strict-transport-security: (.*)$/im.exec(head)?.[1];
      resolve({ reused, status: Number(head.split(' ')[1]), hsts, body, session: ticket });
    });
    socket.once('error', reject);
  });
}

/** The same over h2, on a connection that offers `session`. */
async function getOnSessionH2(
  port: number,
  name: string,
  host: string,
  maxVersion: SecureVersion,
  session?: Buffer,
): Promise<SessionReply> {
  const reply = await h2Get(port, name, host, '/', { maxVersion: maxVersion as 'TLSv1.2' | 'TLSv1.3', session });
  const hsts = reply.headers['strict-transport-security'];
  return {
    reused: reply.reused,
    status: reply.status,
    hsts: typeof hsts === 'string' ? hsts : undefined,
    body: reply.body,
    session: reply.ticket,
  };
}

// Every case runs over HTTP/1.1 and over h2, each against a stack of its own (metrics start at 0).
describe.each<Protocol>(['http/1.1', 'h2'])(
  'edge proxy over %s: dynamic upstreams, routes, timeouts, 421, websockets, HSTS',
  (protocol) => {
    const visit: Visit = protocol === 'h2' ? visitH2 : visitHttp1;
    const getOnSession = protocol === 'h2' ? getOnSessionH2 : getOnSessionHttp1;
    let stack: Stack;
    let upstreamPort: number;
    const upstreams: NamedUpstream[] = [];

    beforeAll(async () => {
      upstreamPort = await freePort();
      upstreams.push(await startNamedUpstream('127.0.0.2', upstreamPort), await startNamedUpstream('127.0.0.3', upstreamPort));
      // Between challtestsrv's clear-a and add-a, a name resolves to its default, 127.0.0.1: an
      // upstream there too keeps that moment harmless for the edge.
      upstreams.push(await startNamedUpstream('127.0.0.1', upstreamPort));
      stack = await startStack({
        // The upstream's name resolves through challtestsrv before the edge starts.
        beforeRoles: ({ pebble }) => pebble.challtest('add-a', { host: `${APP}.`, addresses: ['127.0.0.2'] }),
        env: (pebble) => ({
          UPSTREAM_URL: `http://${APP}:${upstreamPort}`,
          UPSTREAM_DNS_SERVERS: pebble.dnsAddress,
          UPSTREAM_RESOLVE_INTERVAL: '1s',
          UPSTREAM_FAIL_TIMEOUT: '5m',
          UPSTREAM_HEADER_TIMEOUT: '2s',
          EDGE_HSTS: HSTS,
        }),
      });
      const added = await cli(['domains', 'add', '*.proxy-test.example'], stack.env);
      expect(added.code).toBe(0);
    });
    afterAll(async () => {
      await stack?.stop();
      await Promise.all(upstreams.map((u) => u.close()));
    });

    const port = () => stack.edges[0]?.ports.httpsPort ?? 0;
    const counted = (name: string, labels: Record<string, string>) => metric(stack.edges[0]?.ports.metricsPort ?? 0, name, labels);
    const edgeLogs = (msg: string) => stack.edges[0]?.proc.logs(msg) ?? [];
    /** A request for `name` once its real certificate is served (the first handshake has it issued). */
    const served = (name: string, path = '/') =>
      until(
        `${name} served with its certificate`,
        async () => {
          const reply = await visit(port(), name, name, path, stack.rootPem);
          return reply.authorized ? reply : undefined;
        },
        60_000,
        500,
      );
    /** Makes `host` resolve to exactly `addresses` (challtestsrv's add-a adds to what is there). */
    const setA = async (host: string, addresses: string[]) => {
      await stack.pebble.challtest('clear-a', { host: `${host}.` });
      await stack.pebble.challtest('add-a', { host: `${host}.`, addresses });
    };
    /** Waits until the edge has resolved `host` to exactly `addresses`. */
    const resolvedTo = (host: string, addresses: string[]) =>
      until(`${host} resolved to ${addresses.join(', ')}`, () =>
        edgeLogs('upstream addresses changed').some(
          (r) => String(r.upstream).startsWith(host) && JSON.stringify(r.addresses) === JSON.stringify(addresses),
        ),
      );

    it('proxies to the address DNS gives and follows a DNS change by itself', async () => {
      const first = await served('dns.proxy-test.example');
      expect(first).toMatchObject({ status: 200, server: '127.0.0.2' });
      await setA(APP, ['127.0.0.3']);
      await until(
        'traffic moved to 127.0.0.3',
        async () => (await visit(port(), 'dns.proxy-test.example', 'dns.proxy-test.example')).server === '127.0.0.3',
        20_000,
      );
      await resolvedTo(APP, ['127.0.0.3']);
      // The change is seen by re-resolution alone: the edge was never restarted.
      expect(stack.edges[0]?.proc.alive).toBe(true);
    });

    it('sets a dead address aside while the others serve, and no visitor sees an error', async () => {
      await setA(APP, [DEAD, '127.0.0.2', '127.0.0.3']);
      await resolvedTo(APP, [DEAD, '127.0.0.2', '127.0.0.3']);
      const replies = [];
      for (let i = 0; i < 12; i += 1) replies.push(await visit(port(), 'dns.proxy-test.example', 'dns.proxy-test.example'));
      expect(replies.map((r) => r.status)).toEqual(Array(12).fill(200));
      expect(new Set(replies.map((r) => r.server))).toEqual(new Set(['127.0.0.2', '127.0.0.3']));
      const setAside = edgeLogs('upstream address failed; set aside');
      expect(setAside.map((r) => r.address)).toEqual([DEAD]);
      // The one request that met the dead address was sent again to a live one.
      expect(await counted('certfleet_edge_upstream_retries_total', { reason: 'connect_failed' })).toBe(1);
    });

    it('sets the X-Forwarded headers itself and adds HSTS for a name with a real certificate', async () => {
      const reply = await visit(port(), 'dns.proxy-test.example', 'dns.proxy-test.example', '/', stack.rootPem);
      expect(reply.authorized).toBe(true);
      expect(reply.headers['strict-transport-security']).toBe(HSTS);
      const seen = (JSON.parse(reply.body) as { headers: Record<string, string> }).headers;
      expect(seen['x-forwarded-for']).toBe('127.0.0.1');
      expect(seen['x-forwarded-proto']).toBe('https');
      expect(seen['x-forwarded-host']).toBe(`dns.proxy-test.example:${port()}`);
    });

    it('never proxies a connection served the fallback certificate, and adds no HSTS to its 421', async () => {
      // Not allowed: the fallback certificate is served; a client that accepts it anyway reaches no upstream.
      const reply = await visit(port(), 'stranger.not-allowed.example', 'stranger.not-allowed.example', '/', stack.rootPem);
      expect(reply.authorized).toBe(false);
      expect(reply.status).toBe(421);
      expect(reply.server).toBeUndefined();
      expect(reply.headers['strict-transport-security']).toBeUndefined();
      expect(await counted('certfleet_edge_proxy_answers_total', { answer: 'no-certificate' })).toBe(1);
    });

    it('answers 421 when Host differs from the SNI name, and to a connection without SNI', async () => {
      await served('sni.proxy-test.example');
      const other = await visit(port(), 'sni.proxy-test.example', 'dns.proxy-test.example');
      expect(other.status).toBe(421);
      expect(other.body).toContain('Misdirected Request');
      expect(other.headers['strict-transport-security']).toBeUndefined();
      const noSni = await visit(port(), '', 'sni.proxy-test.example');
      expect(noSni.status).toBe(421);
      // The same name with another port, another case or a trailing dot is the same site.
      expect((await visit(port(), 'sni.proxy-test.example', 'SNI.Proxy-Test.example.')).status).toBe(200);
      expect(await counted('certfleet_edge_proxy_answers_total', { answer: 'misdirected' })).toBe(2);
    });

    it('carries websockets through to the upstream', async () => {
      await served('ws.proxy-test.example');
      // TLS options pass through to https.request; ws's types only list the HTTP ones. In the h2
      // run the client offers ALPN http/1.1, as a browser opening a websocket connection does.
      const alpn = protocol === 'h2' ? { ALPNProtocols: ['http/1.1'] } : {};
      const options = {
        servername: 'ws.proxy-test.example',
        headers: { host: `ws.proxy-test.example:${port()}` },
        ca: stack.rootPem,
        ...alpn,
      };
      const socket = new WebSocket(`wss://127.0.0.1:${port()}/chat`, options);
      const reply = await new Promise<string>((resolve, reject) => {
        socket.once('open', () => socket.send('hello'));
        socket.once('message', (data) => resolve(String(data)));
        socket.once('error', reject);
      });
      socket.close();
      expect(reply).toMatch(/^echo from 127\.0\.0\.[23]: hello$/);
    });

    it('answers 504 with its own page when the upstream does not answer in time', async () => {
      await served('slow.proxy-test.example');
      const reply = await visit(port(), 'slow.proxy-test.example', 'slow.proxy-test.example', '/slow');
      expect(reply.status).toBe(504);
      expect(reply.body).toContain('did not answer in time');
      expect(reply.body).not.toMatch(/127\.0\.0|upstream\.example|ETIMEDOUT/);
      expect(await counted('certfleet_edge_proxy_answers_total', { answer: 'timeout' })).toBe(1);
    });

    it('routes a name elsewhere with certfleet routes set, lists it, and back with rm, without an edge restart', async () => {
      const name = 'routed.proxy-test.example';
      await served(name);
      const set = await cli(['routes', 'set', name, `http://127.0.0.2:${upstreamPort}`], stack.env);
      expect(set).toMatchObject({ code: 0, stdout: `${name} -> http://127.0.0.2:${upstreamPort}\n` });
      // Every request now goes to 127.0.0.2, though the default upstream also has 127.0.0.3.
      await until('route followed', async () => (await visit(port(), name, name)).server === '127.0.0.2');
      const routed = await Promise.all(Array.from({ length: 6 }, () => visit(port(), name, name)));
      expect(routed.map((r) => r.server)).toEqual(Array(6).fill('127.0.0.2'));
      const [ls, table] = await Promise.all([cli(['routes', 'ls', '--json'], stack.env), cli(['routes', 'ls'], stack.env)]);
      expect(JSON.parse(ls.stdout)).toEqual([{ name, url: `http://127.0.0.2:${upstreamPort}` }]);
      expect(table.stdout).toContain(`${name}  http://127.0.0.2:${upstreamPort}`);

      expect((await cli(['routes', 'rm', name], stack.env)).code).toBe(0);
      await until('back to the default upstream', async () => {
        const replies = await Promise.all(Array.from({ length: 4 }, () => visit(port(), name, name)));
        return replies.some((r) => r.server === '127.0.0.3');
      });
      expect(JSON.parse((await cli(['routes', 'ls', '--json'], stack.env)).stdout)).toEqual([]);
      expect(stack.edges[0]?.proc.alive).toBe(true);
    });

    it("re-resolves a route's host name like the default upstream's", async () => {
      const name = 'routed-by-name.proxy-test.example';
      await setA(OTHER_APP, ['127.0.0.3']);
      await served(name);
      expect((await cli(['routes', 'set', name, `http://${OTHER_APP}:${upstreamPort}`], stack.env)).code).toBe(0);
      await until('route by name followed', async () => (await visit(port(), name, name)).server === '127.0.0.3');
      await setA(OTHER_APP, ['127.0.0.2']);
      await until('route host re-resolved', async () => (await visit(port(), name, name)).server === '127.0.0.2', 20_000);
      await resolvedTo(OTHER_APP, ['127.0.0.2']);
    });

    it('answers 502 with its own page when the upstream refuses connections', async () => {
      const name = 'refused.proxy-test.example';
      await served(name);
      expect((await cli(['routes', 'set', name, `http://${DEAD}:${upstreamPort}`], stack.env)).code).toBe(0);
      const reply = await until('502 from the dead route', async () => {
        const r = await visit(port(), name, name);
        return r.status === 502 ? r : undefined;
      });
      expect(reply.body).toContain('refused or dropped the connection');
      expect(reply.body).not.toMatch(/127\.0\.0|ECONNREFUSED/);
      expect(reply.headers['strict-transport-security']).toBe(HSTS);
      expect(await counted('certfleet_edge_proxy_answers_total', { answer: 'refused' })).toBeGreaterThanOrEqual(1);
    });

    it.each(['TLSv1.3', 'TLSv1.2'] as const)(
      'serves requests on a %s resumed session like on a full handshake: route, HSTS, 421',
      async (version) => {
        const name = `resumed-${version === 'TLSv1.3' ? '13' : '12'}.proxy-test.example`;
        await served(name);
        expect((await cli(['routes', 'set', name, `http://127.0.0.1:${upstreamPort}`], stack.env)).code).toBe(0);
        await until('route followed', async () => (await visit(port(), name, name)).server === '127.0.0.1');
        const first = await getOnSession(port(), name, name, version);
        const resumed = await until(
          'a resumed session',
          async () => {
            const again = await getOnSession(port(), name, name, version, first.session);
            return again.reused ? again : undefined;
          },
          10_000,
          100,
        );
        expect(resumed.status).toBe(200);
        expect((JSON.parse(resumed.body) as { server: string }).server).toBe('127.0.0.1');
        expect(resumed.hsts).toBe(HSTS);
        if (version === 'TLSv1.3') {
          // The SNI of a resumed TLS 1.3 session is known: another Host is still misdirected.
          const other = await getOnSession(port(), name, 'dns.proxy-test.example', version, resumed.session ?? first.session);
          expect(other).toMatchObject({ reused: true, status: 421 });
        }
      },
    );

    it('refuses a route for an invalid name or a URL that is not http(s), saying why', async () => {
      // Four refusals, independent of each other: asked together.
      const [badName, badUrl, notUrl, noRoute] = await Promise.all([
        cli(['routes', 'set', 'not_a_name', 'http://127.0.0.2'], stack.env),
        cli(['routes', 'set', 'shop.proxy-test.example', 'ftp://127.0.0.2'], stack.env),
        cli(['routes', 'set', 'shop.proxy-test.example', 'upstream:8080'], stack.env),
        cli(['routes', 'rm', 'nothing.proxy-test.example'], stack.env),
      ]);
      expect(badName.code).toBe(1);
      expect(badName.stderr).toContain('"not_a_name" is not a valid domain name');
      expect(badUrl.code).toBe(1);
      expect(badUrl.stderr).toContain('"ftp://127.0.0.2" must start with http:// or https://');
      expect(notUrl.code).toBe(1);
      expect(noRoute.code).toBe(1);
      expect(noRoute.stderr).toContain('nothing.proxy-test.example has no route');
    });
  },
);
