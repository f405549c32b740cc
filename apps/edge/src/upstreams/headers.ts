import type { OutgoingHttpHeaders } from 'node:http';
import type { VisitorRequest } from './visitor.js';

// Hop-by-hop headers (RFC 9110 7.6.1): they describe one connection and are never forwarded
// (`http2-settings` belongs to an h2c upgrade, RFC 7540 3.2.1; an h2 response may carry none of
// these, so they are dropped before node:http2 would refuse the whole response). `expect` too: the edge answers 100-continue itself (Node's server does), and the request it
// sends upstream is framed by the edge, not by the visitor's expectations.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'expect',
]);

// RFC 9110 5.1 (token) and 5.5 (field-value: visible ASCII, obs-text, SP and HTAB). Node's own
// writeHead throws on anything else, so a header that does not match is dropped before it.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

function listedInConnection(value: string | string[] | undefined): Set<string> {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    text
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** What the edge states about the visitor's request in X-Forwarded-*. */
export interface ForwardedFacts {
  /** The connection's name (SNI), used as Host when an HTTP/1.0 request carried none. */
  name: string;
  /** The HTTPS port visitors reach (EDGE_PUBLIC_HTTPS_PORT), not the socket's. */
  publicPort: number;
}

/**
 * The headers sent upstream: the visitor's end-to-end headers (Host kept as the visitor sent
 * it, h2's `:authority` as Host, or the connection's name for an HTTP/1.0 request without one;
 * no h2 pseudo-header), and
 * X-Forwarded-For/Proto/Host/Port set by the edge. The edge is the first hop the visitor's
 * connection reaches, so X-Forwarded-* and Forwarded sent by the client are dropped, not
 * trusted. Content-Length is kept: it is how the upstream frames the body the edge forwards.
 * For a websocket, the Upgrade handshake headers are set to `websocket` (the only upgrade the
 * edge forwards).
 */
export function upstreamRequestHeaders(req: VisitorRequest, upgrade: boolean, facts: ForwardedFacts): OutgoingHttpHeaders {
  const listed = listedInConnection(req.headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    if (name.startsWith('x-forwarded-') || name === 'forwarded' || name.startsWith(':')) continue;
    out[name] = value;
  }
  // h2 names the site in :authority (a Host beside it names the same site: checked before).
  const authority = req.headers[':authority'];
  if (typeof authority === 'string' && authority !== '') out.host = authority;
  if (out.host === undefined) out.host = facts.name;
  if (upgrade) {
    out.connection = 'upgrade';
    out.upgrade = 'websocket';
  }
  out['x-forwarded-for'] = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  out['x-forwarded-proto'] = 'https';
  out['x-forwarded-host'] = out.host;
  out['x-forwarded-port'] = String(facts.publicPort);
  return out;
}

/**
 * The upstream's response headers as a flat [name, value, ...] list (repeats kept), without
 * hop-by-hop headers and without any header whose name or value is not valid HTTP (each such
 * drop is told to `onDropped`: an upstream must never make the edge throw); `extra` headers
 * are added unless the upstream sent them itself. For a websocket's 101, Connection and
 * Upgrade are kept.
 */
export function downstreamResponseHeaders(
  rawHeaders: readonly string[],
  extra: Record<string, string>,
  options: { keepUpgrade?: boolean; onDropped?: () => void } = {},
): string[] {
  // Runs on every response: one pass to find Connection's list (rarely there), one to copy.
  let listed: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] ?? '').toLowerCase() === 'connection') {
      listed ??= new Set();
      for (const token of listedInConnection(rawHeaders[i + 1])) listed.add(token);
    }
  }
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const rawName = rawHeaders[i] ?? '';
    const value = rawHeaders[i + 1] ?? '';
    const name = rawName.toLowerCase();
    if (HOP_BY_HOP.has(name) || listed?.has(name)) {
      if (!(options.keepUpgrade && (name === 'connection' || name === 'upgrade'))) continue;
    }
    if (!HEADER_NAME.test(rawName) || INVALID_VALUE_CHAR.test(value)) {
      options.onDropped?.();
      continue;
    }
    out.push(rawName, value);
  }
  for (const name in extra) {
    if (!sentByUpstream(rawHeaders, name)) out.push(name, extra[name] as string);
  }
  return out;
}

function sentByUpstream(rawHeaders: readonly string[], name: string): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) if ((rawHeaders[i] ?? '').toLowerCase() === name) return true;
  return false;
}

/** A parsed header object (lower-case names, repeats as arrays) as a flat [name, value, ...] list. */
export function flattenHeaders(headers: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const one of value) out.push(name, one);
    else out.push(name, value);
  }
  return out;
}
