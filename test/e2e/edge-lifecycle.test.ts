import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, edgeEnv, edgePorts, metric, startRole, type EdgePorts } from '../support/certfleet.js';
import { connectH2, h2Request } from '../support/h2-client.js';
import type { Proc } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake, httpGet } from '../support/tls-client.js';
import { until } from '../support/wait.js';
import { redisKeys } from '@certfleet/store';

const FALLBACK_SAN = 'DNS:certfleet-fallback.invalid';

/** One TLS connection offering `session` (a ticket from an earlier one); says whether it resumed. */
/** Listening TCP sockets bound to `port` on this machine (/proc/net/tcp: state 0A is LISTEN). */
function listeningSockets(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .filter((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[1]?.endsWith(`:${hex}`) && fields[3] === '0A';
    }).length;
}

function visit(port: number, name: string, session?: Buffer): Promise<{ resumed: boolean; session: Buffer | undefined; san: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: name, rejectUnauthorized: false, ...(session ? { session } : {}) });
    let ticket: Buffer | undefined;
    let san = '';
    socket.setTimeout(20_000, () => socket.destroy(new Error('TLS visit timed out')));
    socket.on('session', (value: Buffer) => (ticket = value));
    socket.once('secureConnect', () => {
      san = socket.getPeerCertificate().subjectaltname ?? '';
      // TLS 1.3 sends its ticket after the handshake: a request and its answer make sure it arrived.
      socket.write(`GET / HTTP/1.1\r\nhost: ${name}\r\nconnection: close\r\n\r\n`);
    });
    socket.on('data', () => undefined);
    socket.once('end', () => resolve({ resumed: socket.isSessionReused(), session: ticket, san }));
    socket.once('error', reject);
  });
}

/** GET over HTTPS without verifying (the edge under test may serve any certificate); keeps the status and body. */
function get(port: number, name: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, servername: name, headers: { host: name }, rejectUnauthorized: false, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Whether a TCP connection to the port is refused (nothing listens any more). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

const childPids = (pid: number): number[] => {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
};

describe('the edge across processes, outages and shutdown', () => {
  let stack: Stack;
  let slowUpstream: Server;
  let slowUpstreamUrl: string;
  /** The paths the slow upstream was asked for, in order: a request has reached it once listed. */
  const upstreamRequests: string[] = [];
  const reached = (path: string, count: number, from: number) =>
    until(`${count} × ${path} at the upstream`, () => upstreamRequests.slice(from).filter((p) => p === path).length >= count, 10_000, 20);
  const name = 'life.example.com';

  beforeAll(async () => {
    stack = await startStack({ edges: 2, issuers: 1, persistentRedis: true });
    // An upstream whose /slow answers after 1.5 s and whose /hang never answers: requests in flight at SIGTERM.
    slowUpstream = createServer((req, res) => {
      upstreamRequests.push(req.url ?? '');
      if (req.url === '/slow') setTimeout(() => res.end('slow answer\n'), 1_500);
      else if (req.url === '/hang') return;
      else res.end('quick answer\n');
    });
    await new Promise<void>((resolve) => slowUpstream.listen(0, '127.0.0.1', resolve));
    slowUpstreamUrl = `http://127.0.0.1:${(slowUpstream.address() as { port: number }).port}`;
    const added = await cli(['domains', 'add', name, 'other.example.com'], stack.env);
    expect(added.code, added.stderr).toBe(0);
    const first = await handshake(stack.edges[0]!.ports.httpsPort, name, stack.rootPem);
    expect(first.authorized, first.authorizationError).toBe(true);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    slowUpstream?.closeAllConnections();
    slowUpstream?.close();
  });

  async function extraEdge(env: NodeJS.ProcessEnv, label: string): Promise<{ proc: Proc; ports: EdgePorts }> {
    const ports = await edgePorts();
    const proc = await startRole('edge', { ...stack.env, ...edgeEnv(ports), ...env }, `edge-${label}-${stack.prefix}`);
    return { proc, ports };
  }

  it('resumes a TLS session on a second edge process with the ticket the first one issued', async () => {
    const [a, b] = stack.edges as [Stack['edges'][number], Stack['edges'][number]];
    const first = await visit(a.ports.httpsPort, name);
    expect(first.resumed).toBe(false);
    expect(first.session).toBeDefined();
    const second = await visit(b.ports.httpsPort, name, first.session);
    expect(second.resumed).toBe(true);
    expect(await metric(b.ports.metricsPort, 'certfleet_edge_tls_handshakes_total', { resumed: 'yes' })).toBeGreaterThanOrEqual(1);
  });

  it('keeps tickets working across one key rotation, not two', async () => {
    const edge = await extraEdge({ EDGE_TICKET_KEY_ROTATE_INTERVAL: '4s', EDGE_WORKERS: '1' }, 'rotating');
    const redis = new Redis(stack.redis.url);
    try {
      const rotatedAt = async () => JSON.parse((await redis.get(redisKeys(stack.prefix).ticketKeys)) ?? '{}').rotatedAt as number;
      /**
       * The next rotation as this edge has taken it in: it logs one once its ring holds the new
       * keys (it rotates them itself, this being the only edge on a 4 s interval).
       */
      const rotation = async (what: string) => {
        const line = await edge.proc.waitForLine(
          (l) => l.includes('"msg":"session-ticket keys rotated"'),
          20_000,
          what,
          edge.proc.lines.length,
        );
        const at = Date.parse((JSON.parse(line) as { rotatedAt: string }).rotatedAt);
        expect(await rotatedAt()).toBe(at);
        return at;
      };
      // Start right after a rotation, so the next one is a known 4 s away.
      await rotation('a rotation');
      const ticket = await visit(edge.ports.httpsPort, name);
      await rotation('one more rotation');
      // The old ticket works under "previous".
      expect((await visit(edge.ports.httpsPort, name, ticket.session)).resumed).toBe(true);
      await rotation('a second rotation');
      expect((await visit(edge.ports.httpsPort, name, ticket.session)).resumed).toBe(false);
    } finally {
      redis.disconnect();
      await edge.proc.stop();
    }
  }, 90_000);

  it('runs EDGE_WORKERS processes, replaces one that dies, resumes sessions across them and adds up their metrics', async () => {
    const edge = await extraEdge({ EDGE_WORKERS: '2', UPSTREAM_URL: slowUpstreamUrl }, 'cluster');
    try {
      const pid = edge.proc.child.pid as number;
      const workers = await until('two workers', () => (childPids(pid).length === 2 ? childPids(pid) : undefined));
      // Each worker accepts for itself from a socket of its own (reusePort): the kernel balances,
      // the primary hands nothing over.
      expect(listeningSockets(edge.ports.httpsPort)).toBe(2);
      // Every connection after the first resumes, on whichever worker the kernel gives it to.
      let session: Buffer | undefined;
      for (let i = 0; i < 6; i += 1) {
        const visited = await visit(edge.ports.httpsPort, name, session);
        // A resumed session carries no certificate; the full handshake shows the name's own.
        if (i === 0) expect(visited.san).toBe(`DNS:${name}`);
        else expect(visited.resumed).toBe(true);
        session = visited.session ?? session;
      }
      expect(await metric(edge.ports.metricsPort, 'certfleet_edge_tls_handshakes_total', { resumed: 'yes' })).toBe(5);

      const listeningBefore = edge.proc.logs('edge worker listening').length;
      process.kill(workers[0] as number, 'SIGKILL');
      // Once the primary knows (a connection handed over in the instant of the crash is lost
      // with the worker), the survivor serves everything while the replacement starts.
      await until('the primary to notice', () => edge.proc.logs('edge worker died; starting another').length === 1);
      for (let i = 0; i < 4; i += 1) expect((await get(edge.ports.httpsPort, name, '/')).status).toBe(200);
      await until('a replacement worker', () => edge.proc.logs('edge worker listening').length > listeningBefore, 30_000);
      const now = childPids(pid);
      expect(now).toHaveLength(2);
      expect(now).not.toContain(workers[0]);

      // SIGTERM to the primary: a request in flight on a worker still gets its answer, then all exit.
      const seen = upstreamRequests.length;
      const inFlight = get(edge.ports.httpsPort, name, '/slow');
      await reached('/slow', 1, seen);
      edge.proc.child.kill('SIGTERM');
      expect(await inFlight).toEqual({ status: 200, body: 'slow answer\n' });
      expect((await edge.proc.exited).code).toBe(0);
      for (const worker of now) expect(() => process.kill(worker, 0)).toThrow();
    } finally {
      await edge.proc.stop();
    }
  }, 120_000);

  it('keeps serving the names it holds while Redis is down, says not ready, and recovers when Redis returns', async () => {
    const edge = stack.edges[1]!;
    expect((await handshake(edge.ports.httpsPort, name, stack.rootPem)).authorized).toBe(true);
    expect((await httpGet(edge.ports.httpPort, '/readyz', 'probe')).status).toBe(200);

    await stack.redis.kill();
    try {
      await until('readyz to fail', async () => (await httpGet(edge.ports.httpPort, '/readyz', 'probe')).status === 503);
      const readyz = await httpGet(edge.ports.httpPort, '/readyz', 'probe');
      expect(readyz.body).toMatch(/^not ready: Redis is/);
      expect((await httpGet(edge.ports.httpPort, '/healthz', 'probe')).status).toBe(200);
      // Traffic keeps flowing for the name in memory; an unknown name gets the fallback at once.
      for (let i = 0; i < 20; i += 1) {
        const served = await handshake(edge.ports.httpsPort, name, stack.rootPem);
        expect(served.authorized, served.authorizationError).toBe(true);
        expect((await get(edge.ports.httpsPort, name, '/')).body).toBe('hello from upstream\n');
      }
      expect((await handshake(edge.ports.httpsPort, 'other.example.com')).subjectaltname).toBe(FALLBACK_SAN);
      expect(edge.proc.alive).toBe(true);
    } finally {
      await stack.redis.start();
    }
    await until('readyz to recover', async () => (await httpGet(edge.ports.httpPort, '/readyz', 'probe')).status === 200, 30_000);
    // Back to normal: a name it did not hold is issued again.
    const issued = await until(
      'other.example.com issued after the outage',
      async () => {
        const result = await handshake(stack.edges[0]!.ports.httpsPort, 'other.example.com', stack.rootPem);
        return result.authorized ? result : undefined;
      },
      60_000,
      1_000,
    );
    expect(issued.subjectaltname).toBe('DNS:other.example.com');
  }, 120_000);

  it('drains on SIGTERM: refuses new connections, finishes the request in flight, closes the rest at the timeout', async () => {
    const edge = await extraEdge({ UPSTREAM_URL: slowUpstreamUrl, EDGE_WORKERS: '1', EDGE_DRAIN_TIMEOUT: '3s' }, 'draining');
    const seen = upstreamRequests.length;
    const slow = get(edge.ports.httpsPort, name, '/slow');
    const hanging = get(edge.ports.httpsPort, name, '/hang').then(
      (response) => `answered ${response.status}`,
      (error: NodeJS.ErrnoException) => `closed (${error.code ?? error.message})`,
    );
    // The same over h2, two streams of one connection: it gets GOAWAY, its streams in flight go on.
    const h2 = await connectH2(edge.ports.httpsPort, { servername: name });
    const goaway = new Promise<number>((resolve) => h2.session.once('goaway', (code: number) => resolve(code)));
    const h2Slow = h2Request(h2.session, { ':authority': name, ':path': '/slow' });
    const h2Hanging = h2Request(h2.session, { ':authority': name, ':path': '/hang' }).then(
      (reply) => `answered ${reply.status}`,
      (error: NodeJS.ErrnoException) => `closed (${error.code ?? error.message})`,
    );
    // All four in flight: at the upstream.
    await Promise.all([reached('/slow', 2, seen), reached('/hang', 2, seen)]);
    edge.proc.child.kill('SIGTERM');
    await until('the listener to close', () => refused(edge.ports.httpsPort), 5_000, 50);
    expect(await goaway).toBe(0);
    expect(await slow).toEqual({ status: 200, body: 'slow answer\n' });
    expect(await h2Slow).toMatchObject({ status: 200, body: 'slow answer\n' });
    expect(await hanging).toMatch(/^closed/);
    expect(await h2Hanging).toMatch(/^closed/);
    expect((await edge.proc.exited).code).toBe(0);
    // Closed by the drain timeout, not by the 25 s shutdown limit (which would exit with 1).
    expect(edge.proc.logs('drained')[0]?.how).toBe('connections left at the timeout were closed');
  }, 60_000);
});
