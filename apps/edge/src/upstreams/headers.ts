import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';

// Hop-by-hop headers (RFC 9110 7.6.1): they describe one connection and are never forwarded.
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
]);

function listedInConnection(value: string | string[] | undefined): Set<string> {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(text.split(',').map((token) => token.trim().toLowerCase()).filter(Boolean));
}

/**
 * The headers sent upstream: the visitor's end-to-end headers (Host kept as the visitor sent
 * it), and X-Forwarded-For/Proto/Host/Port set by the edge. The edge is the first hop the
 * visitor's connection reaches, so X-Forwarded-* and Forwarded sent by the client are dropped,
 * not trusted. For a websocket, the Upgrade handshake headers are kept.
 */
export function upstreamRequestHeaders(req: IncomingMessage, upgrade: boolean): OutgoingHttpHeaders {
  const listed = listedInConnection(req.headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    if (name.startsWith('x-forwarded-') || name === 'forwarded') continue;
    out[name] = value;
  }
  if (upgrade) {
    out.connection = 'upgrade';
    out.upgrade = req.headers.upgrade ?? 'websocket';
  }
  out['x-forwarded-for'] = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  out['x-forwarded-proto'] = 'https';
  out['x-forwarded-host'] = req.headers.host ?? '';
  out['x-forwarded-port'] = String(req.socket.localPort ?? '');
  return out;
}

/**
 * The upstream's response headers as a flat [name, value, ...] list (case and repeats kept,
 * as `rawHeaders` has them), without hop-by-hop headers; `extra` headers are added unless the
 * upstream sent them itself.
 */
export function downstreamResponseHeaders(rawHeaders: readonly string[], extra: Record<string, string>, keepUpgrade = false): string[] {
  const names: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) names.push((rawHeaders[i] ?? '').toLowerCase());
  const listed = listedInConnection(names.flatMap((name, i) => (name === 'connection' ? [rawHeaders[i * 2 + 1] ?? ''] : [])));
  const out: string[] = [];
  names.forEach((name, i) => {
    const keep = keepUpgrade ? name === 'connection' || name === 'upgrade' || !(HOP_BY_HOP.has(name) || listed.has(name)) : !(HOP_BY_HOP.has(name) || listed.has(name));
    if (keep) out.push(rawHeaders[i * 2] ?? '', rawHeaders[i * 2 + 1] ?? '');
  });
  for (const [name, value] of Object.entries(extra)) if (!names.includes(name)) out.push(name, value);
  return out;
}
