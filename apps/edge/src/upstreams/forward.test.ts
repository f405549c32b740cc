import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, Socket, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@certfleet/observability';
import { createForwarder } from './forward.js';
import { upstreamRequestHeaders } from './headers.js';
import { createUpstreamPool } from './pool.js';

const logger = createLogger({ role: 'test', level: 'silent' });
const servers: Server[] = [];
const forwarders: { close(): void }[] = [];
const leftovers: (ChildProcess | Socket)[] = [];

afterEach(async () => {
  for (const f of forwarders.splice(0)) f.close();
  for (const l of leftovers.splice(0)) l instanceof Socket ? l.destroy() : l.kill();
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

async function listen(server: Server, host: string, port = 0): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return (server.address() as AddressInfo).port;
}

/** An upstream answering with `handler` on host:port; counts its TCP connections. */
async function upstream(host: string, handler: (req: IncomingMessage, res: ServerResponse) => void, port = 0) {
  const server = createServer(handler);
  const seen = { connections: 0 };
  server.on('connection', () => (seen.connections += 1));
  return { port: await listen(server, host, port), seen };
}

/**
 * A port on `host` where connections are never accepted: a listener with a backlog of 0 that
 * never calls accept(), its queue filled by one connection, so the kernel drops further SYNs
 * and a connect hangs (as with a firewalled or overloaded host). Node always accepts, so Python
 * holds the socket.
 */
async function unacceptingPort(host: string): Promise<number> {
  const child = spawn('python3', [
    '-c',
    `import socket,time\ns=socket.socket();s.bind(('${host}',0));s.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)`,
  ]);
  leftovers.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (data: Buffer) => resolve(Number(data.toString().trim())));
    child.once('error', reject);
  });
  await new Promise<void>((resolve) => {
    const filler = connect(port, host, () => resolve());
    leftovers.push(filler);
  });
  return port;
}

/** A front server forwarding to `addresses` (as if DNS gave them) on `port`; returns its port and the pool. */
async function front(
  addresses: string[],
  port: number,
  timeouts: Partial<{ connectTimeoutMs: number; headerTimeoutMs: number; idleTimeoutMs: number }> = {},
  onRetry?: (reason: string) => void,
) {
  const pool = createUpstreamPool({
    url: new URL(`http://app.example:${port}`),
    resolve: async () => addresses,
    resolveIntervalMs: 60_000,
    maxIps: 3,
    failTimeoutMs: 60_000,
    logger,
  });
  await pool.ready();
  const forwarder = createForwarder({
    connectTimeoutMs: 2_000,
    headerTimeoutMs: 5_000,
    idleTimeoutMs: 5_000,
    maxSockets: 16,
    queueTimeoutMs: 5_000,
    logger,
    ...timeouts,
    ...(onRetry ? { onRetry } : {}),
  });
  forwarders.push(forwarder);
  const server = createServer((req, res) =>
    forwarder.web(
      req,
      res,
      { url: new URL(`http://app.example:${port}`), pool },
      upstreamRequestHeaders(req, false, { name: 'shop.example', publicPort: 443 }),
      { 'x-extra': 'yes' },
      req.url ?? '/',
    ),
  );
  return { port: await listen(server, '127.0.0.1'), pool };
}

function get(port: number, path = '/', headers: Record<string, string> = {}, method = 'GET', body?: string) {
  return new Promise<{ status: number; body: string; headers: IncomingMessage['headers'] }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host: 'shop.example', ...headers }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete) reject(new Error(`response cut short after ${text.length} bytes`));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('forwarder', () => {
  it('sends the visitor Host and X-Forwarded-* set by the edge, dropping the client ones', async () => {
    const up = await upstream('127.0.0.1', (req, res) => res.end(JSON.stringify(req.headers)));
    const f = await front(['127.0.0.1'], up.port);
    const res = await get(f.port, '/', { 'x-forwarded-for': '6.6.6.6', forwarded: 'for=6.6.6.6' });
    const seen = JSON.parse(res.body) as Record<string, string>;
    expect(seen.host).toBe('shop.example');
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('https');
    expect(seen['x-forwarded-host']).toBe('shop.example');
    expect(seen.forwarded).toBeUndefined();
    expect(res.headers['x-extra']).toBe('yes');
  });

  it('reuses kept-alive upstream connections across requests', async () => {
    const up = await upstream('127.0.0.1', (_req, res) => res.end('ok'));
    const f = await front(['127.0.0.1'], up.port);
    for (let i = 0; i < 5; i += 1) expect((await get(f.port)).body).toBe('ok');
    expect(up.seen.connections).toBe(1);
  });

  it('retries a refused connection once on another address, body included, and sets the refusing one aside', async () => {
    const up = await upstream('127.0.0.3', (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => res.end(`${req.method} ${body}`));
    });
    // Nothing listens on 127.0.0.2 at that port: connections are refused.
    const f = await front(['127.0.0.2', '127.0.0.3'], up.port);
    const res = await get(f.port, '/', { 'content-type': 'text/plain' }, 'POST', 'payload');
    expect(res).toMatchObject({ status: 200, body: 'POST payload' });
    expect(f.pool.pick()).toBe('127.0.0.3');
    expect(f.pool.pick()).toBe('127.0.0.3');
  });

  it('answers 502 with its own page when every address refuses', async () => {
    const port = await upstream('127.0.0.1', () => undefined).then(async (u) => {
      await new Promise<void>((resolve) => servers.pop()?.close(() => resolve()));
      return u.port;
    });
    const f = await front(['127.0.0.1'], port);
    const res = await get(f.port);
    expect(res.status).toBe(502);
    expect(res.body).toContain('refused or dropped the connection');
    expect(res.body).not.toContain('127.0.0.1');
    expect(res.body).not.toContain('ECONNREFUSED');
  });

  it('answers 502 saying the server cannot be reached when the upstream name has no address', async () => {
    const f = await front([], 8080);
    const res = await get(f.port);
    expect(res.status).toBe(502);
    expect(res.body).toContain('cannot be reached');
  });

  it('gives up on a connection not accepted within the connect timeout, and tries another address', async () => {
    const port = await unacceptingPort('127.0.0.6');
    const up = await upstream('127.0.0.7', (_req, res) => res.end('from .7'), port);
    const f = await front(['127.0.0.6', '127.0.0.7'], up.port, { connectTimeoutMs: 300 });
    expect((await get(f.port)).body).toBe('from .7');
    expect(f.pool.pick()).toBe('127.0.0.7');
  });

  it('answers 504 when the only address does not accept the connection in time', async () => {
    const port = await unacceptingPort('127.0.0.6');
    const f = await front(['127.0.0.6'], port, { connectTimeoutMs: 300 });
    const res = await get(f.port);
    expect(res.status).toBe(504);
    expect(res.body).toContain('did not answer in time');
  });

  it('sends a body-less request again on a new connection when its kept-alive one was closed under it', async () => {
    // Each connection serves one request; a second one on it is cut, as when an upstream closes
    // an idle kept-alive connection at the moment the edge reuses it.
    const served = new WeakSet<object>();
    const up = await upstream('127.0.0.1', (req, res) => {
      if (served.has(req.socket)) return void req.socket.destroy();
      served.add(req.socket);
      res.end('fresh');
    });
    const retries: string[] = [];
    const f = await front(['127.0.0.1'], up.port, {}, (reason) => retries.push(reason));
    for (let i = 0; i < 6; i += 1) expect((await get(f.port)).body).toBe('fresh');
    expect(retries.length).toBeGreaterThan(0);
    expect(new Set(retries)).toEqual(new Set(['stale_keepalive']));
  });

  it('never sends a request with a body twice: it may have reached the upstream', async () => {
    let posts = 0;
    const up = await upstream('127.0.0.1', (req) => {
      posts += 1;
      req.socket.destroy();
    });
    const f = await front(['127.0.0.1'], up.port);
    expect((await get(f.port, '/', {}, 'POST', 'once')).status).toBe(502);
    expect(posts).toBe(1);
  });

  it('answers 502 when the upstream resets the connection', async () => {
    const up = await upstream('127.0.0.1', (req) => req.socket.destroy());
    const f = await front(['127.0.0.1'], up.port);
    expect((await get(f.port, '/', {}, 'POST', 'x')).status).toBe(502);
  });

  it('answers 504 when the response headers do not come within the header timeout', async () => {
    const up = await upstream('127.0.0.1', () => undefined);
    const f = await front(['127.0.0.1'], up.port, { headerTimeoutMs: 300 });
    const res = await get(f.port);
    expect(res.status).toBe(504);
    expect(res.body).toContain('did not answer in time');
  });

  it('waits for the headers longer than the idle timeout when the header timeout allows it', async () => {
    const up = await upstream('127.0.0.1', (_req, res) => setTimeout(() => res.end('late but fine'), 600));
    const f = await front(['127.0.0.1'], up.port, { idleTimeoutMs: 200, headerTimeoutMs: 5_000 });
    expect(await get(f.port)).toMatchObject({ status: 200, body: 'late but fine' });
  });

  it('cuts the response short when the upstream goes silent mid-body for the idle timeout', async () => {
    const up = await upstream('127.0.0.1', (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
    });
    const f = await front(['127.0.0.1'], up.port, { idleTimeoutMs: 300 });
    await expect(get(f.port)).rejects.toThrow(/aborted|cut short/);
  });
});
