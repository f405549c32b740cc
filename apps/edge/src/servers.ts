import { constants, createSecureServer, type SecureServerOptions, type ServerHttp2Session } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as TlsServer, TlsOptions } from 'node:tls';
import type { ConnectionLimitsConfig } from '@certfleet/config';
import type { VisitorRequest, VisitorResponse } from './upstreams/visitor.js';

/**
 * What one h2 connection may hold, set explicitly rather than left to Node's and nghttp2's
 * defaults (noted beside each), so a Node upgrade cannot loosen them unseen.
 */
const HTTP2_LIMITS = {
  /** Streams open at once (SETTINGS_MAX_CONCURRENT_STREAMS; Node's default: unlimited). */
  maxConcurrentStreams: 100,
  /**
   * Decoded header list, in RFC 9113's measure (each field's name and value plus 32 octets;
   * Node's default 64 KiB). HTTP/1.1 requests get Node's 16 KiB of header bytes; 32 KiB leaves
   * room for the per-field overhead of the same headers.
   */
  maxHeaderListSize: 32 * 1024,
  /** Header fields in one request, pseudo-headers included (Node's default 128). */
  maxHeaderListPairs: 128,
  /** Streams opened beyond maxConcurrentStreams (refused) before the session is closed (Node's default 100). */
  maxSessionRejectedStreams: 100,
  /** Invalid frames before the session is closed (Node's default 1,000). */
  maxSessionInvalidFrames: 100,
  /**
   * RST_STREAM frames from the client: a bucket of 200, refilled at 33 a second; once it is
   * empty nghttp2 sends GOAWAY and the session ends (CVE-2023-44487, rapid reset; nghttp2's
   * default 1,000). A browser resets at most its open streams (100 here) when a page is left.
   */
  streamResetBurst: 200,
  streamResetRate: 33,
  /** Unanswered PINGs and SETTINGS the edge accepts (Node's defaults). */
  maxOutstandingPings: 10,
  maxOutstandingSettings: 10,
  /** Memory one session may use for its state and buffers, in MB (Node's default 10). */
  maxSessionMemory: 10,
} as const;

export interface VisitorServerOptions {
  /** Offer h2 (EDGE_HTTP2); when false this is the HTTPS server of HTTP/1.1 alone. */
  http2: boolean;
  /** Certificates, SNI and ALPN callbacks, ciphers, session and handshake settings: the same for both protocols. */
  tls: TlsOptions;
  /** node:http's timeouts for HTTP/1.1 requests (headers, whole request, keep-alive). */
  http1Timeouts: { headersTimeout: number; requestTimeout: number; keepAliveTimeout: number; connectionsCheckingInterval: number };
  /** EDGE_KEEPALIVE_TIMEOUT and EDGE_REQUEST_TIMEOUT, applied to h2 sessions and streams. */
  limits: Pick<ConnectionLimitsConfig, 'keepAliveTimeoutMs' | 'requestTimeoutMs'>;
  onRequest: (req: VisitorRequest, res: VisitorResponse) => void;
  /** Told when an h2 session ends on an error or a limit, or for idleness. */
  onSessionClosed?: (reason: 'http2_error' | 'http2_idle') => void;
}

/** The HTTPS server visitors reach; node:http's idle-connection handling applies to its HTTP/1.1 connections. */
export type VisitorServer = TlsServer & { closeIdleConnections(): void; closeAllConnections?(): void };

/**
 * The HTTPS port's server. With h2, node:http2's secure server with `allowHTTP1`: one port, the
 * same TLS options (the SNI callback, the ALPN callback that answers tls-alpn-01 and picks the
 * protocol, tickets, the handshake timeout); HTTP/1.1 connections (and websockets, which
 * negotiate http/1.1) are served by node:http's own code, with the same timeouts as before.
 */
export function createVisitorServer(options: VisitorServerOptions): VisitorServer {
  if (!options.http2) return createHttpsServer({ ...options.tls, ...options.http1Timeouts }, options.onRequest);
  const { maxConcurrentStreams, maxHeaderListSize, ...sessionLimits } = HTTP2_LIMITS;
  const h2Options: SecureServerOptions = {
    ...options.tls,
    ...sessionLimits,
    allowHTTP1: true,
    settings: { maxConcurrentStreams, maxHeaderListSize, enablePush: false },
    // An upstream's repeated Content-Type (or any field h2 calls single-valued) is relayed as
    // HTTP/1.1 relays it, rather than failing the whole response.
    strictSingleValueFields: false,
  };
  // node:http2 hands `http1Options` (and these top-level fields) to node:http's code for HTTP/1.1 connections.
  const server = createSecureServer({ ...h2Options, ...options.http1Timeouts } as SecureServerOptions, options.onRequest);
  server.on('session', (session: ServerHttp2Session) => watchSession(session, options));
  return server as unknown as VisitorServer;
}

/**
 * Bounds for one h2 session that node:http's timeouts give HTTP/1.1 connections: a session
 * with no stream open for EDGE_KEEPALIVE_TIMEOUT is closed (GOAWAY), and a stream whose request
 * has not arrived whole within EDGE_REQUEST_TIMEOUT (a slow upload) is cancelled.
 */
function watchSession(session: ServerHttp2Session, options: VisitorServerOptions): void {
  const { keepAliveTimeoutMs, requestTimeoutMs } = options.limits;
  let open = 0;
  let idle: NodeJS.Timeout | undefined;
  const armIdle = () => {
    idle = setTimeout(() => {
      options.onSessionClosed?.('http2_idle');
      session.close();
    }, keepAliveTimeoutMs);
    idle.unref();
  };
  armIdle();
  session.on('stream', (stream) => {
    open += 1;
    clearTimeout(idle);
    const slow = setTimeout(() => {
      // remoteClose: the client has sent END_STREAM, so its request is whole.
      if (!stream.destroyed && stream.state.remoteClose !== 1) stream.close(constants.NGHTTP2_CANCEL);
    }, requestTimeoutMs);
    slow.unref();
    stream.once('close', () => {
      clearTimeout(slow);
      open -= 1;
      if (open === 0 && !session.closed && !session.destroyed) armIdle();
    });
  });
  // nghttp2 or Node ending the session (a limit above, a protocol error) errs with an
  // ERR_HTTP2_* code; a client that simply went away (ECONNRESET) is not counted.
  session.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code?.startsWith('ERR_HTTP2_')) options.onSessionClosed?.('http2_error');
  });
  session.once('close', () => clearTimeout(idle));
}
