import type { Duplex } from 'node:stream';
import { isHttp2Response, writeHead, type VisitorResponse } from './visitor.js';

/** Why the edge answers itself instead of the upstream. */
export type EdgeAnswer =
  | 'refused'
  | 'timeout'
  | 'queue-timeout'
  | 'no-address'
  | 'misdirected'
  | 'no-certificate'
  | 'bad-request'
  | 'internal';

/** Answers after which the edge closes the visitor's HTTP/1.1 connection: it may be out of step, or hostile. */
const CLOSES: ReadonlySet<EdgeAnswer> = new Set(['misdirected', 'no-certificate', 'bad-request', 'internal']);

const PAGES: Record<EdgeAnswer, { status: number; title: string; text: string }> = {
  refused: {
    status: 502,
    title: 'Bad Gateway',
    text: "The site's server refused or dropped the connection. Please try again in a moment.",
  },
  'no-address': {
    status: 502,
    title: 'Bad Gateway',
    text: "The site's server cannot be reached at the moment. Please try again in a moment.",
  },
  timeout: {
    status: 504,
    title: 'Gateway Timeout',
    text: "The site's server did not answer in time. Please try again in a moment.",
  },
  'queue-timeout': {
    status: 504,
    title: 'Gateway Timeout',
    text: "The site's server is too busy to take the request at the moment. Please try again in a moment.",
  },
  'no-certificate': {
    status: 421,
    title: 'Misdirected Request',
    text: 'This site is not served here.',
  },
  'bad-request': {
    status: 400,
    title: 'Bad Request',
    text: 'The request could not be understood.',
  },
  internal: {
    status: 502,
    title: 'Bad Gateway',
    text: "The site's answer could not be relayed. Please try again in a moment.",
  },
  misdirected: {
    status: 421,
    title: 'Misdirected Request',
    text: 'This connection was made for another site name than the one requested. Please connect again using the site name you request.',
  },
};

/** The page for `answer`: says what happened in a visitor's words, never an address or an error code. */
function edgePage(answer: EdgeAnswer): { status: number; title: string; body: string } {
  const page = PAGES[answer];
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${page.status} ${page.title}</title></head>
<body><h1>${page.status} ${page.title}</h1><p>${page.text}</p></body></html>
`;
  return { status: page.status, title: page.title, body };
}

/** Answers an HTTP request with the edge's own page (headers not sent yet), else cuts the response short. */
export function sendPage(res: VisitorResponse, answer: EdgeAnswer, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const page = edgePage(answer);
  writeHead(res, page.status, {
    ...extraHeaders,
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(page.body),
    'cache-control': 'no-store',
    ...closing(res, answer),
  });
  res.end(page.body);
}

/**
 * HTTP/1.1: `Connection: close` on the answers in CLOSES. h2 has no such header and its
 * streams are independent (a 421 is answered per stream, RFC 9110 15.5.20), so only a
 * connection served the fallback certificate, whose every stream would be refused, is closed:
 * gracefully (GOAWAY) once the answer is out.
 */
function closing(res: VisitorResponse, answer: EdgeAnswer): Record<string, string> {
  if (!CLOSES.has(answer)) return {};
  if (!isHttp2Response(res)) return { connection: 'close' };
  if (answer === 'no-certificate') {
    const session = res.stream.session;
    res.once('finish', () => session?.close());
  }
  return {};
}

/** The same page written on a raw socket (a websocket upgrade that could not be proxied), then the socket is closed. */
export function sendPageOnSocket(socket: Duplex, answer: EdgeAnswer): void {
  if (socket.destroyed) return;
  const page = edgePage(answer);
  socket.end(
    `HTTP/1.1 ${page.status} ${page.title}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(page.body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${page.body}`,
  );
}
