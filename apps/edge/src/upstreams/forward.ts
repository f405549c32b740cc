import type { OutgoingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { Client, Pool, type Dispatcher } from 'undici';
import { errorMessage, type Logger } from '@certfleet/observability';
import { downstreamResponseHeaders, flattenHeaders } from './headers.js';
import { createWebsocketForwarder } from './forward-websocket.js';
import { answerFor, codeOf, notConnected, UpstreamTimeoutError } from './upstream-errors.js';
import { sendPage, type EdgeAnswer } from './pages.js';
import { hostOf, type UpstreamPool } from './pool.js';
import { createSlots, type Slots } from './slots.js';
import {
  requestHasBody,
  responseGone,
  writeHead as writeResponseHead,
  type ResponseBody,
  type VisitorRequest,
  type VisitorResponse,
} from './visitor.js';

/*
 * Why undici, not http-proxy or node:http's client (measured and reproduced here; see issue 10):
 * - Framing. node:http's client sends a body on GET, HEAD, DELETE, OPTIONS and TRACE raw, with
 *   neither Content-Length nor chunking, so a visitor's chunked GET put a second, unchecked
 *   request on a kept-alive upstream connection (request smuggling). undici frames every body
 *   it sends: Content-Length when the length is known, chunked otherwise, and it never reuses a
 *   connection after a body on a method that does not expect one.
 * - Strict responses. undici's parser refuses a 100 it did not ask for, a 101 nobody asked for,
 *   bad chunk sizes and oversized headers; the connection is then closed, never reused.
 * - Retries. http-proxy pipes the body before the connection is open, so a refused connection
 *   cannot be retried on another address; undici reads the body only once connected.
 * - Timeouts. Connect, header and body timeouts are undici's own; http-proxy has none.
 * - Speed. Keep-alive proxied requests per CPU-second, bare Node proxies (FIELD-NOTES): undici
 *   Pool 7,369-8,583 on Node 20 and 9,451-9,666 on Node 24, node:http 6,346-6,987, and
 *   http-proxy-3 2,057-2,549 (plain HTTP, three rounds of wrk).
 * Websocket upgrades use node:http with a fresh connection each (forward-websocket.ts).
 *
 * Why not a proxy library over undici (@fastify/reply-from, undici's ProxyAgent, http-proxy-3):
 * the edge's forwarding is mostly its own policy, which none of them has a place for: one
 * route's several resolved addresses with a bounded per-address queue (slots.ts) and a 504
 * when it is full; a retry on another address only for a body-less idempotent request that
 * failed before a byte came back; hop-by-hop and forwarding headers rebuilt for the visitor's
 * connection (headers.ts); an upstream's invalid response headers dropped one by one instead
 * of failing the response; and the edge's own error pages. reply-from also needs fastify's
 * request objects, which the edge's HTTP/1.1 and h2 servers do not make. What is left is
 * a call to undici's `dispatch`, which this file makes directly.
 */

export interface ForwarderOptions {
  connectTimeoutMs: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  /** Requests in flight to one upstream address, at most (the others wait for a slot). */
  maxSockets: number;
  /** How long a request waits for a slot before it is answered 504 (UPSTREAM_QUEUE_TIMEOUT). */
  queueTimeoutMs: number;
  logger: Logger;
  /** Told of each page the edge answers itself and of each retry (metrics). */
  onAnswer?: (answer: EdgeAnswer) => void;
  onRetry?: (reason: 'connect_failed' | 'stale_keepalive') => void;
  /** Told of each response header dropped because its name or value is not valid HTTP. */
  onDroppedHeader?: () => void;
}

/** Where one request goes: the upstream URL (scheme, host for TLS, port, path prefix) and its addresses. */
export interface ForwardTarget {
  url: URL;
  pool: UpstreamPool;
}

// RFC 9110 9.2.2: safe to send twice when no response came.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

// A dispatcher per address that nobody used for this long is closed (addresses come and go).
const UNUSED_DISPATCHER_MS = 10 * 60_000;

interface AddressDispatcher {
  pool: Pool;
  /** A connection of its own, closed after one request: for a retry after a kept-alive connection failed. */
  fresh: () => Client;
  slots: Slots;
  usedAt: number;
  /** Closed by the sweeper: a lookup that still holds it makes a new one. */
  closed: boolean;
}

/**
 * Sends requests and websocket upgrades to an upstream address, over kept-alive connections
 * (one bounded pool per address, requests beyond it waiting at most queueTimeoutMs), with
 * connect, header and idle timeouts. A request whose connection could not be opened sets that
 * address aside and is sent once more to another address (nothing of it was sent); so is a
 * body-less idempotent request whose connection the upstream closed before answering (the
 * race every keep-alive proxy has). Anything else that fails before the response's headers
 * gets the edge's 502 or 504 page; after them, the response is cut short. Nothing an upstream
 * sends can throw out of here: the status line is rebuilt from the code, and headers that are
 * not valid HTTP are dropped.
 */
export function createForwarder(options: ForwarderOptions) {
  const log = options.logger;
  const dispatchers = new Map<string, AddressDispatcher>();
  // The per-request lookup: route URLs are parsed once (proxy.ts), so their objects are stable
  // keys, and the origin string is built only for a new URL and address.
  const byUrl = new WeakMap<URL, Map<string, AddressDispatcher>>();

  function dispatcherFor(target: ForwardTarget, address: string): AddressDispatcher {
    let forUrl = byUrl.get(target.url);
    const known = forUrl?.get(address);
    if (known && !known.closed) {
      known.usedAt = Date.now();
      return known;
    }
    const secure = target.url.protocol === 'https:';
    const host = hostOf(target.url);
    const port = target.url.port || (secure ? '443' : '80');
    const origin = `${target.url.protocol}//${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
    const key = secure ? `${origin}#${host}` : origin;
    let entry = dispatchers.get(key);
    if (!entry) {
      const clientOptions = {
        pipelining: 1,
        connectTimeout: options.connectTimeoutMs,
        headersTimeout: options.headerTimeoutMs,
        bodyTimeout: options.idleTimeoutMs,
        keepAliveMaxTimeout: options.idleTimeoutMs,
        strictContentLength: true,
        // The upstream's certificate is checked against its host name, not the address dialled.
        ...(secure ? { connect: { servername: host } } : {}),
      };
      const pool = new Pool(origin, { ...clientOptions, connections: options.maxSockets });
      pool.on('connectionError', () => undefined);
      const fresh = () => new Client(origin, { ...clientOptions, pipelining: 0 }).on('connectionError', () => undefined);
      entry = { pool, fresh, slots: createSlots(options.maxSockets, options.queueTimeoutMs), usedAt: Date.now(), closed: false };
      dispatchers.set(key, entry);
    }
    entry.usedAt = Date.now();
    if (!forUrl) {
      forUrl = new Map();
      byUrl.set(target.url, forUrl);
    }
    forUrl.set(address, entry);
    return entry;
  }

  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [key, entry] of dispatchers) {
      if (now - entry.usedAt > UNUSED_DISPATCHER_MS && entry.slots.inUse === 0 && entry.slots.waiting === 0) {
        dispatchers.delete(key);
        entry.closed = true;
        void entry.pool.close().catch(() => undefined);
      }
    }
  }, 60_000);
  sweeper.unref();

  function web(
    req: VisitorRequest,
    res: VisitorResponse,
    target: ForwardTarget,
    headers: OutgoingHttpHeaders,
    extra: Record<string, string>,
    path: string,
  ): void {
    const method = req.method ?? 'GET';
    const hasBody = requestHasBody(req);
    const body: ResponseBody = res;
    const prefix = target.url.pathname === '/' ? '' : target.url.pathname.replace(/\/$/, '');
    const upstreamPath = path === '*' ? '*' : prefix + path;
    const secure = target.url.protocol === 'https:';
    let abortCurrent: ((reason: Error) => void) | undefined;
    let cancelWait: (() => void) | undefined;
    res.once('close', () => {
      if (res.writableFinished) return;
      cancelWait?.();
      abortCurrent?.(new Error('the visitor closed the connection'));
    });

    const fail = (error: unknown, address: string) => {
      if (responseGone(res) || res.writableFinished) return;
      log.debug({ address, err: errorMessage(error), url: req.url }, 'upstream request failed');
      const answer = error instanceof UpstreamTimeoutError && error.phase === 'queue' ? 'queue-timeout' : answerFor(error);
      options.onAnswer?.(answer);
      sendPage(res, answer, extra);
    };

    const attempt = (address: string, retried: boolean, fresh = false) => {
      const dispatcher = dispatcherFor(target, address);
      cancelWait = dispatcher.slots.acquire(
        () => {
          cancelWait = undefined;
          // The visitor left (an h2 stream reset) while the request waited: nothing goes upstream.
          if (responseGone(res)) return dispatcher.slots.release();
          send(dispatcher, address, retried, fresh);
        },
        () => fail(new UpstreamTimeoutError('queue', options.queueTimeoutMs), address),
      );
    };

    const send = (dispatcher: AddressDispatcher, address: string, retried: boolean, fresh: boolean) => {
      let connected = false;
      let responded = false;
      let released = false;
      const client = fresh ? dispatcher.fresh() : undefined;
      const release = () => {
        if (released) return;
        released = true;
        abortCurrent = undefined;
        dispatcher.slots.release();
        if (client) void client.close().catch(() => undefined);
      };
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(controller) {
          connected = true;
          abortCurrent = (reason) => controller.abort(reason);
        },
        onResponseStart(controller, statusCode, responseHeaders) {
          // Informational answers (102, 103) are not relayed; undici refuses a 100 it did not ask for.
          if (statusCode < 200) return;
          responded = true;
          try {
            const out = downstreamResponseHeaders(flattenHeaders(responseHeaders), extra, { onDropped: options.onDroppedHeader });
            writeResponseHead(res, statusCode, out);
            body.on('drain', () => controller.resume());
          } catch (error) {
            // Whatever the upstream sent, it ends this request only.
            controller.abort(error instanceof Error ? error : new Error(String(error)));
          }
        },
        onResponseData(controller, chunk) {
          if (!body.write(chunk)) controller.pause();
        },
        onResponseEnd() {
          release();
          res.end();
        },
        onResponseError(_controller, error) {
          release();
          if (responseGone(res) || res.writableFinished) return; // the visitor left, or was answered
          if (responded) {
            // Headers are out: the only honest signal left is cutting the response short.
            log.debug({ address, err: errorMessage(error) }, 'upstream failed mid-response');
            res.destroy();
            return;
          }
          const failedToConnect = !connected && notConnected(error);
          if (failedToConnect) target.pool.setAside(address);
          if (!retried) {
            // Nothing was sent when the connection failed (undici reads the body only once
            // connected); a kept-alive connection closed under a body-less idempotent request.
            const staleKeptAlive = connected && !hasBody && IDEMPOTENT.has(method) && codeOf(error) === 'UND_ERR_SOCKET';
            const next =
              failedToConnect && !req.readableDidRead
                ? target.pool.pick(address)
                : staleKeptAlive
                  ? (target.pool.pick(address) ?? address)
                  : undefined;
            if (next) {
              options.onRetry?.(failedToConnect ? 'connect_failed' : 'stale_keepalive');
              log.debug({ address, next, err: errorMessage(error) }, 'upstream connection failed; retrying');
              // After a kept-alive connection failed, the others of the pool may be as stale: a new one.
              attempt(next, true, !failedToConnect);
              return;
            }
          }
          fail(error, address);
        },
      };
      try {
        (client ?? dispatcher.pool).dispatch(
          {
            path: upstreamPath,
            method: method as Dispatcher.HttpMethod,
            headers: headers as Record<string, string | string[]>,
            body: hasBody ? req : null,
            // undici would take the TLS name from Host (the customer's name): the upstream's own is used.
            ...(secure ? { servername: hostOf(target.url) } : {}),
          },
          handler,
        );
      } catch (error) {
        release();
        fail(error, address);
      }
    };

    const first = target.pool.pick();
    if (first === undefined) {
      options.onAnswer?.('no-address');
      sendPage(res, 'no-address', extra);
    } else attempt(first, false);
  }

  return {
    web,
    ws: createWebsocketForwarder(options),
    close(): void {
      clearInterval(sweeper);
      for (const entry of dispatchers.values()) void entry.pool.destroy().catch(() => undefined);
      dispatchers.clear();
    },
  };
}
