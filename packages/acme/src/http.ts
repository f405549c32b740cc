import { rootCertificates } from 'node:tls';
import { Agent } from 'node:https';
import acme from 'acme-client';
import { AcmeProblemError, parseRetryAfter } from './problem.js';

let configured = false;

/**
 * Sets acme-client's shared HTTP client for certfleet, once per process:
 * - no internal retries: its default re-sends a 429ed request for hours with a used nonce and
 *   loses the rate-limit error; rate limits and backoff are the issuer's job;
 * - every problem document becomes an {@link AcmeProblemError} with status, type and Retry-After
 *   (except badNonce, which acme-client itself retries with a fresh nonce);
 * - the ACME server's TLS is trusted through the system roots plus `caBundlePem` (Pebble's own
 *   listener certificate in tests), never by replacing NODE_EXTRA_CA_CERTS.
 */
export function configureAcmeHttp(options: { caBundlePem?: string | undefined; timeoutMs?: number }): void {
  const http = acme.axios;
  const settings = (http.defaults as unknown as { acmeSettings: Record<string, number> }).acmeSettings;
  settings.retryMaxAttempts = 0;
  http.defaults.timeout = options.timeoutMs ?? 15_000;
  if (options.caBundlePem) {
    http.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, options.caBundlePem], keepAlive: true });
  }
  if (configured) return;
  configured = true;
  http.interceptors.response.use(
    (response) => {
      // acme-client retries badNonce itself by reading the response: hand it back untouched.
      if (response.status < 400 || isBadNonce(response.data)) return response;
      throw problemOf(response);
    },
    (error: { response?: Parameters<typeof problemOf>[0] }) => {
      if (error.response && error.response.status >= 400 && !isBadNonce(error.response.data)) {
        throw problemOf(error.response);
      }
      throw error;
    },
  );
}

function problemOf(response: {
  status: number;
  headers: Record<string, unknown>;
  data: unknown;
  config?: { url?: string };
}): AcmeProblemError {
  const body = (typeof response.data === 'object' && response.data !== null ? response.data : {}) as {
    type?: string;
    detail?: string;
  };
  const retryAfter = response.headers['retry-after'];
  return new AcmeProblemError(
    body.type ?? '',
    response.status,
    body.detail ?? (typeof response.data === 'string' ? response.data.slice(0, 200) : ''),
    response.config?.url ?? '',
    parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : undefined, Date.now()),
  );
}

function isBadNonce(data: unknown): boolean {
  return (data as { type?: unknown } | null)?.type === 'urn:ietf:params:acme:error:badNonce';
}
