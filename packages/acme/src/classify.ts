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
  // axios: a request that got no response at all (its message says 'Network Error').
  'ERR_NETWORK',
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

export const PROBLEM_PREFIX = 'urn:ietf:params:acme:error:';

/** An error with no answer from the CA at all (refused, reset, timed out, not resolved). */
export function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

/**
 * Classifies by what the error is (its class, the CA's problem type and status, the network
 * error code), never by its message text.
 */
export function classifyAcmeFailure(error: unknown): Classified {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof AcmeProblemError) {
    if (error.isRateLimited) return { kind: 'rate-limited', retryAfterMs: error.retryAfterMs, message };
    if (error.status === 503) return { kind: 'unavailable', retryAfterMs: error.retryAfterMs, message };
    if (isPermanent(error.type)) return { kind: 'permanent', retryAfterMs: undefined, message };
    return { kind: 'transient', retryAfterMs: error.retryAfterMs, message };
  }
  if (error instanceof AcmeValidationError) {
    const permanent = error.problems.some((problem) => isPermanent(problem.type));
    return { kind: permanent ? 'permanent' : 'validation', retryAfterMs: undefined, message };
  }
  if (isNetworkError(error)) return { kind: 'unavailable', retryAfterMs: undefined, message };
  return { kind: 'transient', retryAfterMs: undefined, message };
}

function isPermanent(type: string): boolean {
  return PERMANENT_TYPES.includes(type.replace(PROBLEM_PREFIX, ''));
}
