import { once } from 'node:events';
import { connect as h2connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { createLogger } from '@certfleet/observability';
import type { ChallengeStore } from '@certfleet/store';
import { createSelfSignedCertificate } from '@certfleet/tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createAlpnChallenges } from './alpn-challenges.js';
import { createVisitorServer, type VisitorServer } from './servers.js';

const logger = createLogger({ role: 'edge', level: 'silent' });
const site = await createSelfSignedCertificate({ commonName: 'site.example', validDays: 1 });
const challenge = await createSelfSignedCertificate({ commonName: 'challenge.example', validDays: 1 });

describe('the HTTPS server visitors reach', () => {
  let server: VisitorServer | undefined;
  const closed: string[] = [];

  afterEach(async () => {
    server?.close();
    server = undefined;
    closed.length = 0;
  });

  async function start(
    http2: boolean,
    limits = { keepAliveTimeoutMs: 20_000, requestTimeoutMs: 60_000 },
    http1Timeouts = { headersTimeout: 5_000, requestTimeout: 60_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 },
  ): Promise<number> {
    const alpn = createAlpnChallenges({ challenges: { getAlpn: async () => challenge } as unknown as ChallengeStore, logger, http2 });
    await alpn.check('pending.example');
    server = createVisitorServer({
      http2,
      tls: { cert: site.certPem, key: site.keyPem, ALPNCallback: alpn.alpnCallback },
      http1Timeouts,
      limits,
      // /upload waits for its body before answering (as the proxy forwarding it would).
      onRequest: (req, res) => (req.url === '/upload' ? req.resume() : res.end(`HTTP/${req.httpVersion} ${req.url}`)),
      onSessionClosed: (reason) => closed.push(reason),
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  }

  /** The protocol ALPN picks for a client offering `protocols` (false: none picked; 'refused': the handshake failed). */
  function negotiate(port: number, protocols: string[] | undefined, servername = 'site.example'): Promise<string | false> {
    return new Promise((resolve) => {
      const socket: TLSSocket = tlsConnect({
        host: '127.0.0.1',
        port,
        servername,
        rejectUnauthorized: false,
        ...(protocols ? { ALPNProtocols: protocols } : {}),
      });
      socket.once('secureConnect', () => {
        resolve(socket.alpnProtocol ?? false);
        socket.destroy();
      });
      socket.once('error', () => resolve('refused'));
    });
  }

  it('offers h2 first, http/1.1 to clients without h2, and the tls-alpn-01 answer to the CA', async () => {
    const port = await start(true);
    expect(await negotiate(port, ['h2', 'http/1.1'])).toBe('h2');
    expect(await negotiate(port, ['http/1.1', 'h2'])).toBe('h2');
    expect(await negotiate(port, ['http/1.1'])).toBe('http/1.1');
    expect(await negotiate(port, undefined)).toBe(false);
    expect(await negotiate(port, ['acme-tls/1'], 'pending.example')).toBe('acme-tls/1');
  });

  it('with EDGE_HTTP2 off, offers http/1.1 only and refuses a client that speaks nothing else', async () => {
    const port = await start(false);
    expect(await negotiate(port, ['h2', 'http/1.1'])).toBe('http/1.1');
    expect(await negotiate(port, ['h2'])).toBe('refused');
    expect(await negotiate(port, ['acme-tls/1'], 'pending.example')).toBe('acme-tls/1');
  });

  it('serves both protocols on one port through one handler', async () => {
    const port = await start(true);
    const session = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false, servername: 'site.example' });
    const stream = session.request({ ':path': '/over-h2' });
    stream.setEncoding('utf8');
    let body = '';
    stream.on('data', (chunk: string) => (body += chunk));
    await once(stream, 'end');
    session.close();
    expect(body).toBe('HTTP/2.0 /over-h2');
    const http1 = await new Promise<string>((resolve) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port,
        servername: 'site.example',
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
      });
      let text = '';
      socket.once('secureConnect', () => socket.write('GET /over-http1 HTTP/1.1\r\nHost: site.example\r\nConnection: close\r\n\r\n'));
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.once('close', () => resolve(text));
    });
    expect(http1).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*HTTP\/1\.1 \/over-http1$/);
  });

  it("keeps node:http's header timeout for HTTP/1.1 connections beside h2 (408)", async () => {
    const port = await start(true, undefined, {
      headersTimeout: 300,
      requestTimeout: 1_000,
      keepAliveTimeout: 1_000,
      connectionsCheckingInterval: 100,
    });
    const started = Date.now();
    const answer = await new Promise<string>((resolve) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port,
        servername: 'site.example',
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
      });
      let text = '';
      socket.once('secureConnect', () => socket.write('GET /slowloris HTTP/1.1\r\nHost: site.example\r\n'));
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.once('close', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('closes an h2 session with no stream open for the keep-alive timeout (GOAWAY), and cancels a request that never ends', async () => {
    const port = await start(true, { keepAliveTimeoutMs: 300, requestTimeoutMs: 200 });
    const session = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false, servername: 'site.example' });
    session.on('error', () => undefined);
    // A POST whose body never comes: cancelled after the request timeout, not held for good.
    const upload = session.request({ ':path': '/upload', ':method': 'POST' }, { endStream: false });
    upload.on('error', () => undefined);
    upload.resume();
    await once(upload, 'close');
    expect(upload.rstCode).toBe(8); // NGHTTP2_CANCEL
    const [code] = (await once(session, 'goaway')) as [number];
    expect(code).toBe(0);
    expect(closed).toEqual(['http2_idle']);
  });
});
