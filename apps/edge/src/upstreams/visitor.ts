import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { TLSSocket } from 'node:tls';

/*
 * One proxy layer for both protocols a visitor may speak. The HTTPS server hands the same
 * request handler node:http's IncomingMessage/ServerResponse (HTTP/1.1) or node:http2's
 * compatibility objects (h2). They differ where the proxy looks: the name comes from
 * `:authority`, pseudo-headers sit among the headers, a body is announced by the absence of
 * END_STREAM rather than by framing headers, the response has no `destroyed` and refuses
 * connection-specific headers, and `req.socket` is a proxy made per stream.
 */

/** A visitor's request, from either protocol. */
export type VisitorRequest = IncomingMessage | Http2ServerRequest;
/** The response to it. */
export type VisitorResponse = ServerResponse | Http2ServerResponse;
/** The label requests are counted under. */
export type VisitorProtocol = 'http/1.1' | 'h2';

export const isHttp2 = (req: VisitorRequest): req is Http2ServerRequest => req.httpVersionMajor === 2;

export const isHttp2Response = (res: VisitorResponse): res is Http2ServerResponse => 'stream' in res;

export const protocolOf = (req: VisitorRequest): VisitorProtocol => (isHttp2(req) ? 'h2' : 'http/1.1');

/**
 * The visitor's TLS connection: one object per connection for both protocols (with h2,
 * `req.socket` is a new proxy for each stream; the session's socket is one per connection).
 * Undefined once an h2 stream has closed (its session is let go).
 */
export function connectionOf(req: VisitorRequest): TLSSocket | undefined {
  if (!isHttp2(req)) return req.socket as TLSSocket;
  return req.stream.session?.socket as TLSSocket | undefined;
}

/** A host name as sites are compared: without port, lower case, without a trailing dot. */
export function siteName(host: string): string {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * The name a request asks for: h2's `:authority`, else `Host`, as {@link siteName}. Both
 * present naming different sites is a conflict: RFC 9113 8.3.1 lets a server treat such a
 * request as malformed, and the edge must not check one and forward the other.
 */
export function requestedName(headers: IncomingHttpHeaders): { name: string | undefined; conflict: boolean } {
  const authority = headers[':authority'];
  const host = headers.host;
  const fromAuthority = typeof authority === 'string' && authority !== '' ? siteName(authority) : undefined;
  const fromHost = host ? siteName(host) : undefined;
  return {
    name: fromAuthority ?? fromHost,
    conflict: fromAuthority !== undefined && fromHost !== undefined && fromAuthority !== fromHost,
  };
}

/**
 * Whether a body follows the request's headers. HTTP/1.1 says so with Transfer-Encoding or a
 * non-zero Content-Length; h2 with a HEADERS frame without END_STREAM (Content-Length is
 * optional there, and nghttp2 holds the DATA frames to it when it is given).
 */
export function requestHasBody(req: VisitorRequest): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  if (isHttp2(req)) return !req.stream.endAfterHeaders;
  return req.headers['transfer-encoding'] !== undefined;
}

/**
 * Whether the visitor is gone: the connection closed, or (h2) the stream was reset or has
 * closed. Nothing more is sent upstream for such a request.
 */
export function responseGone(res: VisitorResponse): boolean {
  if (isHttp2Response(res)) return res.stream.destroyed || res.stream.closed;
  return res.destroyed;
}

/** What the forwarder streams an upstream's body through: the same on both protocols. */
export interface ResponseBody {
  write(chunk: Uint8Array): boolean;
  on(event: 'drain', listener: () => void): unknown;
}

/** Sends the status and headers: a flat [name, value, ...] list (repeats kept) or an object. */
export function writeHead(res: VisitorResponse, status: number, headers: string[] | OutgoingHttpHeaders): void {
  if (isHttp2Response(res)) res.writeHead(status, headers);
  else res.writeHead(status, headers);
}
