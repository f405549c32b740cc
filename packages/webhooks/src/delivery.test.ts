import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverOnce, MAX_RESPONSE_BYTES } from './delivery.js';
import { verifySignature } from './signature.js';

const SECRET = 'a-secret-for-the-delivery-tests';

/** A receiver on loopback whose behaviour each test sets per path. */
describe('delivering one event', () => {
  let server: Server;
  let base: string;
  const seen: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];
  let giantBytesWritten = 0;
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/ok': (_req, res) => res.writeHead(204).end(),
    '/error': (_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('database  is\n down'),
    '/redirect': (_req, res) => res.writeHead(302, { location: '/ok' }).end(),
    '/hang': () => undefined,
    '/slow-body': (_req, res) => {
      res.writeHead(503);
      res.write('partial');
    },
    '/giant': (_req, res) => {
      res.writeHead(500);
      const chunk = Buffer.alloc(64 * 1024, 120);
      // Writes until the client stops reading; counts what went out.
      const pump = () => {
        while (giantBytesWritten < 64 * 1024 * 1024) {
          giantBytesWritten += chunk.length;
          if (!res.write(chunk)) return res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => undefined);
      pump();
    },
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        seen.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString() });
        (routes[path] ?? routes['/ok'])?.(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const request = (path: string, overrides: Partial<Parameters<typeof deliverOnce>[0]> = {}) => ({
    url: `${base}${path}`,
    eventId: 'evt_00112233445566778899aabbccddeeff',
    body: '{"id":"evt_00112233445566778899aabbccddeeff","type":"certificate.issued"}',
    secret: SECRET,
    timeoutMs: 2_000,
    nowSeconds: Math.floor(Date.now() / 1000),
    ...overrides,
  });

  it('POSTs the body with a signature the receiver verifies, and the event id', async () => {
    const outcome = await deliverOnce(request('/ok'));
    expect(outcome).toEqual({ delivered: true, status: 204 });
    const got = seen.findLast((s) => s.path === '/ok');
    expect(got?.headers['certfleet-event-id']).toBe('evt_00112233445566778899aabbccddeeff');
    expect(got?.headers['content-type']).toBe('application/json');
    expect(verifySignature(SECRET, got?.headers['certfleet-signature'] as string, got?.body ?? '', 300)).toMatchObject({ valid: true });
  });

  it('fails on a 5xx, with a short excerpt of the answer', async () => {
    expect(await deliverOnce(request('/error'))).toEqual({ delivered: false, status: 500, reason: 'answered 500: database is down' });
  });

  it('does not follow a redirect', async () => {
    const before = seen.filter((s) => s.path === '/ok').length;
    const outcome = await deliverOnce(request('/redirect'));
    expect(outcome).toMatchObject({ delivered: false, status: 302, reason: expect.stringMatching(/redirect.*not followed/) });
    expect(seen.filter((s) => s.path === '/ok').length).toBe(before);
  });

  it('gives up on a receiver that never answers, at the timeout', async () => {
    expect(await deliverOnce(request('/hang', { timeoutMs: 300 }))).toEqual({ delivered: false, reason: 'no answer within 300 ms' });
  });

  it('gives up on an answer whose body never ends, at the timeout', async () => {
    const outcome = await deliverOnce(request('/slow-body', { timeoutMs: 300 }));
    expect(outcome).toMatchObject({ delivered: false, status: 503 });
  });

  it('reads no more of a giant answer than its cap', async () => {
    const outcome = await deliverOnce(request('/giant'));
    expect(outcome).toMatchObject({ delivered: false, status: 500 });
    if (outcome.delivered) throw new Error('unexpected');
    expect(outcome.reason.length).toBeLessThan(300);
    // The server stopped writing once the socket's buffers filled: far below the 64 MB it offered.
    expect(giantBytesWritten).toBeLessThan(16 * 1024 * 1024);
    expect(MAX_RESPONSE_BYTES).toBe(4_096);
  });

  it('sends credentials written in the URL as basic auth, never in the URL', async () => {
    const url = `${base.replace('http://', 'http://hook-user:p%40ss@')}/ok`;
    expect(await deliverOnce(request('/ok', { url }))).toMatchObject({ delivered: true });
    const got = seen.at(-1);
    expect(got?.headers.authorization).toBe(`Basic ${Buffer.from('hook-user:p@ss').toString('base64')}`);
  });

  it('fails, without throwing, when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const outcome = await deliverOnce(request('/ok', { url: `http://127.0.0.1:${port}/` }));
    expect(outcome).toMatchObject({ delivered: false, reason: expect.stringMatching(/ECONNREFUSED/) });
  });
});
