/**
 * An ACME server's problem document (RFC 8555 section 6.7) as an error: what the CA said, so that
 * callers can tell a rate limit from a rejected name from a fault of ours. `retryAfterMs` is set
 * when the CA said when to come back (429, 503).
 */
export class AcmeProblemError extends Error {
  override readonly name = 'AcmeProblemError';
  constructor(
    readonly type: string,
    readonly status: number,
    readonly detail: string,
    readonly url: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`the ACME server answered ${status} ${type || 'without a problem type'} for ${url}: ${detail || 'no detail'}`);
  }

  get isRateLimited(): boolean {
    return this.status === 429 || this.type === 'urn:ietf:params:acme:error:rateLimited';
  }
}

/** A challenge the CA could not validate, with the CA's own explanation. */
export class AcmeValidationError extends Error {
  override readonly name = 'AcmeValidationError';
  constructor(
    readonly domain: string,
    detail: string,
    options?: ErrorOptions & {
      /** The problems the CA recorded on the failed authorization's challenges (RFC 8555 7.1.4). */
      problems?: readonly ChallengeProblem[];
    },
  ) {
    super(`the CA could not validate ${domain}: ${detail}`, options);
    this.problems = options?.problems ?? [];
  }

  readonly problems: readonly ChallengeProblem[];
}

/** One RFC 8555 problem document as the CA put it on a challenge. */
export interface ChallengeProblem {
  type: string;
  detail: string | undefined;
  status: number | undefined;
}

/** The problems on an authorization document (its own `error` and each challenge's), read field by field. */
export function authorizationProblems(authorization: unknown): ChallengeProblem[] {
  const document = authorization as { error?: unknown; challenges?: { error?: unknown }[] } | null;
  if (typeof document !== 'object' || document === null) return [];
  const candidates = [document.error, ...(Array.isArray(document.challenges) ? document.challenges.map((c) => c?.error) : [])];
  return candidates.flatMap((candidate) => {
    const problem = candidate as { type?: unknown; detail?: unknown; status?: unknown } | undefined;
    if (typeof problem?.type !== 'string') return [];
    return [
      {
        type: problem.type,
        detail: typeof problem.detail === 'string' ? problem.detail : undefined,
        status: typeof problem.status === 'number' ? problem.status : undefined,
      },
    ];
  });
}

/**
 * `Retry-After` as milliseconds from `now`: delay-seconds or an HTTP date (RFC 9110 10.2.3).
 * Undefined when absent or unreadable; never negative.
 */
export function parseRetryAfter(value: string | undefined | null, now: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/^[A-Za-z]{3},/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
