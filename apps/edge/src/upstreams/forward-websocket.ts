import { request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errorMessage } from '@certfleet/observability';
import type { ForwarderOptions, ForwardTarget } from './forward.js';
import { downstreamResponseHeaders } from './headers.js';
import { sendPageOnSocket } from './pages.js';
import { hostOf } from './pool.js';
import { answerFor, notConnected, statusLine, UpstreamTimeoutError } from './upstream-errors.js';

/**
 * Websocket upgrades, over node:http with a fresh connection each: a websocket holds its
 * connection for good, so it never comes from (or goes back to) a keep-alive pool. A refused
 * connection is tried once on another address; the upstream's 101 (or its refusal) is relayed
 * with the edge's own status line and checked headers; then bytes flow both ways until either
 * side closes or UPSTREAM_IDLE_TIMEOUT passes in silence.
 */
export function createWebsocketForwarder(options: ForwarderOptions) {
  const log = options.logger;

  function openUpgrade(
    target: ForwardTarget,
    address: string,
    req: IncomingMessage,
    headers: OutgoingHttpHeaders,
    path: string,
  ): ClientRequest {
    const secure = target.url.protocol === 'https:';
    const host = hostOf(target.url);
    const prefix = target.url.pathname === '/' ? '' : target.url.pathname.replace(/\/$/, '');
    return (secure ? httpsRequest : httpRequest)({
      host: address,
      port: target.url.port || (secure ? 443 : 80),
      method: req.method,
      path: prefix + path,
      headers,
      setHost: false,
      // A websocket holds its connection for good: never from (or back to) a keep-alive pool.
      agent: false,
      ...(secure && isIP(host) === 0 ? { servername: host } : {}),
    });
  }

  /** Writes a status line and checked headers on a raw socket; false if nothing could be written. */
  function writeHead(
    socket: Duplex,
    code: number,
    rawHeaders: readonly string[],
    extra: Record<string, string>,
    keepUpgrade: boolean,
  ): void {
    const lines = [statusLine(code)];
    const out = downstreamResponseHeaders(rawHeaders, extra, { keepUpgrade, onDropped: options.onDroppedHeader });
    for (let i = 0; i < out.length; i += 2) lines.push(`${out[i]}: ${out[i + 1]}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  }

  function ws(req: IncomingMessage, socket: Duplex, head: Buffer, target: ForwardTarget, headers: OutgoingHttpHeaders, path: string): void {
    let current: ClientRequest | undefined;
    socket.on('error', () => current?.destroy());

    const attempt = (address: string, retried: boolean) => {
      let connected = false;
      let headerTimer: NodeJS.Timeout | undefined;
      const upstreamReq = openUpgrade(target, address, req, headers, path);
      current = upstreamReq;
      whenConnected(upstreamReq, options.connectTimeoutMs, () => {
        connected = true;
        headerTimer = setTimeout(
          () => upstreamReq.destroy(new UpstreamTimeoutError('header', options.headerTimeoutMs)),
          options.headerTimeoutMs,
        );
        upstreamReq.end();
      });
      upstreamReq.once('upgrade', (upstreamRes, upstreamSocket, upstreamHead) => {
        clearTimeout(headerTimer);
        if (socket.destroyed) return void upstreamSocket.destroy();
        upstreamSocket.on('error', () => socket.destroy());
        writeHead(socket, 101, upstreamRes.rawHeaders, {}, true);
        if (upstreamHead.length) socket.write(upstreamHead);
        if (head.length) upstreamSocket.write(head);
        // Websockets are bound by the idle timeout too (as nginx's proxy_read_timeout): applications ping.
        const idle = () => {
          upstreamSocket.destroy();
          socket.destroy();
        };
        upstreamSocket.setTimeout(options.idleTimeoutMs, idle);
        upstreamSocket.on('close', () => socket.destroy());
        socket.on('close', () => upstreamSocket.destroy());
        upstreamSocket.pipe(socket);
        socket.pipe(upstreamSocket);
      });
      upstreamReq.once('response', (upstreamRes) => {
        // The upstream declined the upgrade: relay its answer, then close.
        clearTimeout(headerTimer);
        upstreamRes.on('error', () => socket.destroy());
        writeHead(socket, upstreamRes.statusCode ?? 502, upstreamRes.rawHeaders, { connection: 'close' }, false);
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

  return ws;
}

/** Calls `onConnected` once the request has a usable connection; bounds a new connection's opening. */
function whenConnected(upstreamReq: ClientRequest, timeoutMs: number, onConnected: () => void): void {
  upstreamReq.once('socket', (socket: Socket) => {
    if (!socket.connecting) return onConnected();
    const timer = setTimeout(() => upstreamReq.destroy(new UpstreamTimeoutError('connect', timeoutMs)), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      onConnected();
    });
    socket.once('close', () => clearTimeout(timer));
  });
}
