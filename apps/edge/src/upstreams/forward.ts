import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errorMessage, type Logger } from '@certfleet/observability';
import { downstreamResponseHeaders } from './headers.js';
import { sendPage, sendPageOnSocket, type EdgeAnswer } from './pages.js';
import { hostOf, type UpstreamPool } from './pool.js';

export interface ForwarderOptions {
  connectTimeoutMs: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  /** Connections to one upstream address, at most (requests beyond wait for one). */
  maxSockets: number;
  logger: Logger;
  /** Told of each page the edge answers itself and of each retry (metrics). */
  onAnswer?: (answer: EdgeAnswer) => void;
  onRetry?: (reason: 'connect_failed' | 'stale_keepalive') => void;
}

/** Where one request goes: the upstream URL (scheme, host for TLS, port, path prefix) and its addresses. */
export interface ForwardTarget {
  url: URL;
  pool: UpstreamPool;
}

/** The upstream did not connect, answer, or speak within a bound. */
export class UpstreamTimeoutError extends Error {
  constructor(
    readonly phase: 'connect' | 'header' | 'idle',
    ms: number,
  ) {
    super(`upstream ${phase} timeout after ${ms} ms`);
  }
}

// Errors that mean no connection was opened, so nothing of the request reached the upstream.
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EHOSTDOWN', 'ETIMEDOUT']);

const notConnected = (error: unknown) =>
  (error instanceof UpstreamTimeoutError && error.phase === 'connect') ||
  NOT_CONNECTED.has((error as NodeJS.ErrnoException).code ?? '');

const answerFor = (error: unknown): EdgeAnswer => (error instanceof UpstreamTimeoutError ? 'timeout' : 'refused');

/** Calls `onConnected` once the request has a usable connection; bounds a new connection's opening. */
function whenConnected(upstreamReq: ClientRequest, timeoutMs: number, onConnected: () => void): void {
  upstreamReq.once('socket', (socket: Socket) => {
    // A kept-alive connection from the agent is connected already.
    if (!socket.connecting) return onConnected();
    const timer = setTimeout(() => upstreamReq.destroy(new UpstreamTimeoutError('connect', timeoutMs)), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      onConnected();
    });
    socket.once('close', () => clearTimeout(timer));
  });
}

/**
 * Sends requests and websocket upgrades to an upstream address, over kept-alive connections
 * (one bounded pool per address), with connect, header and idle timeouts. A request whose
 * connection could not be opened sets that address aside and is sent once more to another
 * address (nothing of it was sent); so is a body-less request whose kept-alive connection the
 * upstream closed before answering (the race every keep-alive proxy has). Anything else that
 * fails before the response's headers gets the edge's 502 or 504 page.
 */
export function createForwarder(options: ForwarderOptions) {
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets,
    maxFreeSockets: Math.min(options.maxSockets, 256),
    // Idle kept-alive connections are closed after this (or sooner when the upstream's Keep-Alive header says so).
    timeout: options.idleTimeoutMs,
    scheduling: 'lifo' as const,
  };
  const agents = { http: new HttpAgent(agentOptions), https: new HttpsAgent(agentOptions) };
  const log = options.logger;

  function open(target: ForwardTarget, address: string, req: IncomingMessage, headers: OutgoingHttpHeaders, keepAlive: boolean): ClientRequest {
    const secure = target.url.protocol === 'https:';
    const host = hostOf(target.url);
    const prefix = target.url.pathname === '/' ? '' : target.url.pathname.replace(/\/$/, '');
    return (secure ? httpsRequest : httpRequest)({
      host: address,
      port: target.url.port || (secure ? 443 : 80),
      method: req.method,
      path: prefix + (req.url ?? '/'),
      headers,
      setHost: false,
      agent: keepAlive ? (secure ? agents.https : agents.http) : false,
      // The upstream's certificate is checked against its host name, not the address dialled.
      ...(secure && isIP(host) === 0 ? { servername: host } : {}),
    });
  }

  function web(req: IncomingMessage, res: ServerResponse, target: ForwardTarget, headers: OutgoingHttpHeaders, extra: Record<string, string>): void {
    const bodyless = (req.headers['content-length'] === undefined || req.headers['content-length'] === '0') && !req.headers['transfer-encoding'];
    let current: ClientRequest | undefined;
    res.once('close', () => {
      if (!res.writableFinished) current?.destroy();
    });

    const attempt = (address: string, retried: boolean) => {
      let connected = false;
      let responded = false;
      let headerTimer: NodeJS.Timeout | undefined;
      const upstreamReq = open(target, address, req, headers, true);
      current = upstreamReq;
      const idle = () => upstreamReq.destroy(new UpstreamTimeoutError('idle', options.idleTimeoutMs));
      whenConnected(upstreamReq, options.connectTimeoutMs, () => {
        connected = true;
        // While the body is sent, silence is bounded by the idle timeout; once all of the request
        // is sent, the wait for the response's headers by the header timeout alone.
        upstreamReq.setTimeout(options.idleTimeoutMs, idle);
        upstreamReq.once('finish', () => {
          if (responded) return;
          upstreamReq.setTimeout(0);
          headerTimer = setTimeout(() => upstreamReq.destroy(new UpstreamTimeoutError('header', options.headerTimeoutMs)), options.headerTimeoutMs);
        });
        if (bodyless) upstreamReq.end();
        else req.pipe(upstreamReq);
      });
      upstreamReq.once('response', (upstreamRes) => {
        responded = true;
        clearTimeout(headerTimer);
        upstreamReq.setTimeout(options.idleTimeoutMs, idle);
        const outHeaders = downstreamResponseHeaders(upstreamRes.rawHeaders, extra);
        if (upstreamRes.statusMessage) res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, outHeaders);
        else res.writeHead(upstreamRes.statusCode ?? 502, outHeaders);
        upstreamRes.pipe(res);
        upstreamRes.once('error', () => res.destroy());
        // An upstream that dies mid-body must not leave the visitor waiting for the rest.
        upstreamRes.once('close', () => {
          if (!upstreamRes.complete) res.destroy();
        });
      });
      upstreamReq.once('error', (error) => {
        clearTimeout(headerTimer);
        if (res.destroyed || res.writableFinished) return; // the visitor left, or was answered
        if (responded) {
          // Headers are out: the only honest signal left is cutting the response short.
          log.debug({ address, err: errorMessage(error) }, 'upstream failed mid-response');
          res.destroy();
          return;
        }
        const failedToConnect = !connected && notConnected(error);
        if (failedToConnect) target.pool.setAside(address);
        if (!retried) {
          const staleKeptAlive = connected && upstreamReq.reusedSocket && bodyless && !(error instanceof UpstreamTimeoutError);
          const next = failedToConnect ? target.pool.pick(address) : staleKeptAlive ? (target.pool.pick(address) ?? address) : undefined;
          if (next) {
            options.onRetry?.(failedToConnect ? 'connect_failed' : 'stale_keepalive');
            log.debug({ address, next, err: errorMessage(error) }, 'upstream connection failed; retrying on another address');
            attempt(next, true);
            return;
          }
        }
        log.debug({ address, err: errorMessage(error), url: req.url }, 'upstream request failed');
        options.onAnswer?.(answerFor(error));
        sendPage(res, answerFor(error), extra);
      });
    };

    const first = target.pool.pick();
    if (first === undefined) {
      options.onAnswer?.('no-address');
      sendPage(res, 'no-address', extra);
    } else attempt(first, false);
  }

  function ws(req: IncomingMessage, socket: Duplex, head: Buffer, target: ForwardTarget, headers: OutgoingHttpHeaders): void {
    let current: ClientRequest | undefined;
    socket.on('error', () => current?.destroy());

    const attempt = (address: string, retried: boolean) => {
      let connected = false;
      let headerTimer: NodeJS.Timeout | undefined;
      // A websocket holds its connection for good: never from (or back to) the keep-alive pool.
      const upstreamReq = open(target, address, req, headers, false);
      current = upstreamReq;
      whenConnected(upstreamReq, options.connectTimeoutMs, () => {
        connected = true;
        headerTimer = setTimeout(() => upstreamReq.destroy(new UpstreamTimeoutError('header', options.headerTimeoutMs)), options.headerTimeoutMs);
        upstreamReq.end();
      });
      upstreamReq.once('upgrade', (upstreamRes, upstreamSocket, upstreamHead) => {
        clearTimeout(headerTimer);
        if (socket.destroyed) return void upstreamSocket.destroy();
        const lines = [`HTTP/1.1 101 ${upstreamRes.statusMessage || 'Switching Protocols'}`];
        const out = downstreamResponseHeaders(upstreamRes.rawHeaders, {}, true);
        for (let i = 0; i < out.length; i += 2) lines.push(`${out[i]}: ${out[i + 1]}`);
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (upstreamHead.length) socket.write(upstreamHead);
        if (head.length) upstreamSocket.write(head);
        // Websockets are bound by the idle timeout too (as nginx's proxy_read_timeout): applications ping.
        const idle = () => {
          upstreamSocket.destroy();
          socket.destroy();
        };
        upstreamSocket.setTimeout(options.idleTimeoutMs, idle);
        upstreamSocket.on('error', () => socket.destroy());
        upstreamSocket.on('close', () => socket.destroy());
        socket.on('close', () => upstreamSocket.destroy());
        upstreamSocket.pipe(socket);
        socket.pipe(upstreamSocket);
      });
      upstreamReq.once('response', (upstreamRes) => {
        // The upstream declined the upgrade: relay its answer, then close.
        clearTimeout(headerTimer);
        const lines = [`HTTP/1.1 ${upstreamRes.statusCode} ${upstreamRes.statusMessage ?? ''}`];
        const out = downstreamResponseHeaders(upstreamRes.rawHeaders, { connection: 'close' });
        for (let i = 0; i < out.length; i += 2) lines.push(`${out[i]}: ${out[i + 1]}`);
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
        upstreamRes.pipe(socket);
      });
      upstreamReq.once('error', (error) => {
        clearTimeout(headerTimer);
        if (socket.destroyed) return;
        const failedToConnect = !connected && notConnected(error);
        if (failedToConnect) {
          target.pool.setAside(address);
          const next = retried ? undefined : target.pool.pick(address);
          if (next) {
            options.onRetry?.('connect_failed');
            return attempt(next, true);
          }
        }
        log.debug({ address, err: errorMessage(error), url: req.url }, 'upstream websocket failed');
        options.onAnswer?.(answerFor(error));
        sendPageOnSocket(socket, answerFor(error));
      });
    };

    const first = target.pool.pick();
    if (first === undefined) {
      options.onAnswer?.('no-address');
      sendPageOnSocket(socket, 'no-address');
    } else attempt(first, false);
  }

  return {
    web,
    ws,
    close(): void {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

export type Forwarder = ReturnType<typeof createForwarder>;
