import { AcmeProblemError, AcmeValidationError } from './problem.js';

/**
 * What an issuance failure means for what we do next:
 * - `rate-limited`: the CA said 429; pause this CA for the whole fleet until Retry-After.
 * - `unavailable`: the CA is down or overloaded (503, no answer); pause it briefly, try another.
 * - `validation`: the CA could not validate the name; cool the name down.
 * - `permanent`: the CA refuses the name itself (rejected identifier, CAA, malformed); stop
 *   until an operator acts.
 * - `transient`: anything else worth retrying (5xx, a bad nonce that outlived its retries).
 */
export type FailureKind = 'rate-limited' | 'unavailable' | 'validation' | 'permanent' | 'transient';

const PERMANENT_TYPES = [
  'rejectedIdentifier',
  'caa',
  'malformed',
  'unsupportedIdentifier',
  'badCSR',
  'invalidContact',
  'unsupportedContact',
];
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

export interface Classified {
  kind: FailureKind;
  /** When the CA said when to come back. */
  retryAfterMs: number | undefined;
  message: string;
}

export function classifyAcmeFailure(error: unknown): Classified {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof AcmeProblemError) {
    const type = error.type.replace('urn:ietf:params:acme:error:', '');
    if (error.isRateLimited) return { kind: 'rate-limited', retryAfterMs: error.retryAfterMs, message };
    if (error.status === 503) return { kind: 'unavailable', retryAfterMs: error.retryAfterMs, message };
    if (PERMANENT_TYPES.includes(type)) return { kind: 'permanent', retryAfterMs: undefined, message };
    return { kind: 'transient', retryAfterMs: error.retryAfterMs, message };
  }
  if (error instanceof AcmeValidationError) {
    const permanent = PERMANENT_TYPES.some((type) => message.includes(`urn:ietf:params:acme:error:${type}`));
    return { kind: permanent ? 'permanent' : 'validation', retryAfterMs: undefined, message };
  }
  const code = (error as { code?: string } | null)?.code;
  if ((code && NETWORK_CODES.has(code)) || /timeout|socket hang up|network/i.test(message)) {
    return { kind: 'unavailable', retryAfterMs: undefined, message };
  }
  return { kind: 'transient', retryAfterMs: undefined, message };
}
