import { PolicySourceUnavailableError, type DomainPolicy } from './types.js';

export interface AskPolicyOptions {
  /** GET `url?domain=NAME`: 2xx allows, any other answer denies (Caddy's `ask` contract). */
  url: URL;
  timeoutMs: number;
  allowTtlMs: number;
  denyTtlMs: number;
  /** How long a remembered answer stands in while the endpoint is down. */
  maxStaleMs: number;
  fetch?: typeof fetch;
}

/**
 * Asks the provider's own endpoint. A 5xx, a timeout or a network error means the endpoint is
 * down (not a "no"): the chain then uses a recent answer, or denies.
 */
export function askPolicy(options: AskPolicyOptions): DomainPolicy {
  const doFetch = options.fetch ?? fetch;
  return {
    name: 'ask',
    maxStaleMs: options.maxStaleMs,
    async evaluate(name) {
      const url = new URL(options.url);
      url.searchParams.set('domain', name);
      let status: number;
      try {
        const response = await doFetch(url, { signal: AbortSignal.timeout(options.timeoutMs), redirect: 'manual' });
        status = response.status;
        await response.body?.cancel();
      } catch (error) {
        const timedOut = (error as Error).name === 'TimeoutError';
        throw new PolicySourceUnavailableError(
          timedOut
            ? `the ask endpoint did not answer within ${options.timeoutMs} ms`
            : `the ask endpoint is unreachable: ${(error as Error).message}`,
        );
      }
      if (status >= 500) throw new PolicySourceUnavailableError(`the ask endpoint answered ${status}`);
      return status >= 200 && status < 300
        ? { verdict: 'allow', reason: `the ask endpoint answered ${status}`, ttlMs: options.allowTtlMs }
        : { verdict: 'deny', reason: `the ask endpoint answered ${status}`, ttlMs: options.denyTtlMs };
    },
  };
}
