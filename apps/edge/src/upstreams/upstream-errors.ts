import { STATUS_CODES } from 'node:http';
import type { EdgeAnswer } from './pages.js';

/** The upstream did not connect, answer, or speak within a bound. */
export class UpstreamTimeoutError extends Error {
  constructor(
    readonly phase: 'connect' | 'header' | 'idle' | 'queue',
    ms: number,
  ) {
    super(`upstream ${phase} timeout after ${ms} ms`);
  }
}

// Errors that mean no connection was opened, so nothing of the request reached the upstream.
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EHOSTDOWN',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export const codeOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code ?? '';

/** Nothing of the request reached the upstream: it may be sent to another address. */
export const notConnected = (error: unknown) =>
  (error instanceof UpstreamTimeoutError && error.phase === 'connect') || NOT_CONNECTED.has(codeOf(error));

/** The edge's own page for a failure before the response: 504 for a timeout, else 502. */
export const answerFor = (error: unknown): EdgeAnswer =>
  error instanceof UpstreamTimeoutError || TIMEOUTS.has(codeOf(error)) ? 'timeout' : 'refused';

/** The status line is the edge's own: the upstream's reason phrase is never relayed (it may hold any byte). */
export const statusLine = (code: number) => `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Unknown'}`;
