import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent } from 'node:https';
import acme from 'acme-client';
import axios, { type AxiosAdapter } from 'axios';
import { AcmeProblemError, parseRetryAfter } from './problem.js';
import { createEndpointNamer } from './request-endpoints.js';

let configured = false;

/** One HTTP request to an ACME server, as metrics count it (cert-manager's labels). */
export interface AcmeRequestObservation {
  /** A path template such as `/acme/new-order` or `/my-order/:id`, never a URL with ids (request-endpoints.ts). */
  endpoint: string;
  /** As acme-client asked (HEAD for a nonce, even though it is sent as GET). */
  method: string;
  /** The HTTP status, or `error` when no answer came (refused, reset, timed out). */
  status: string;
  durationSeconds: number;
}

let observe: ((request: AcmeRequestObservation) => void) | undefined;
const endpoints = createEndpointNamer();

/**
 * Sets acme-client's shared HTTP client for certfleet, once per process:
 * - no internal retries: its default re-sends a 429ed request for hours with a used nonce and
 *   loses the rate-limit error; rate limits and backoff are the issuer's job;
 * - every problem document becomes an {@link AcmeProblemError} with status, type and Retry-After
 *   (except badNonce, which acme-client itself retries with a fresh nonce);
 * - the ACME server's TLS is trusted through the system roots plus `caBundlePem` (Pebble's own
 *   listener certificate in tests), never by replacing NODE_EXTRA_CA_CERTS.
 */
export function configureAcmeHttp(options: {
  caBundlePems?: readonly string[];
  timeoutMs?: number;
  /** Told of every request once it is answered or failed (the issuer's ACME request metrics). Must not throw. */
  onRequest?: (request: AcmeRequestObservation) => void;
}): void {
  observe = options.onRequest;
  const http = acme.axios;
  const settings = (http.defaults as unknown as { acmeSettings: Record<string, number> }).acmeSettings;
  settings.retryMaxAttempts = 0;
  http.defaults.timeout = options.timeoutMs ?? 15_000;
  // acme-client shares one HTTP client between all its clients: trust every configured CA's bundle.
  if (options.caBundlePems?.length) {
    // One secure context for every connection: given `ca` instead, Node parses the ~140 root
    // certificates again for each new TLS connection (about 50 ms each, measured against Pebble;
    // 7 ms with this).
    const secureContext = createSecureContext({ ca: [...rootCertificates, ...options.caBundlePems] });
    http.defaults.httpsAgent = new Agent({ secureContext, keepAlive: true });
  }
  if (configured) return;
  configured = true;
  // With retries off, acme-client's own interceptor crashes on an error that has no response (a
  // reset, a refused connection, a timeout) and the caller sees a TypeError instead. Errors
  // without `config` pass through it untouched: strip it, keep the code and the message.
  const adapter: AxiosAdapter = axios.getAdapter(http.defaults.adapter ?? 'http');
  http.defaults.adapter = async (config) => {
    const started = performance.now();
    const answered = (response: { status?: unknown; data?: unknown }) => {
      // The directory names the RFC's resources (new-order, new-nonce...) whatever the CA calls them.
      if (config.method?.toLowerCase() === 'get') endpoints.learn(config.url ?? '', response.data);
      record(typeof response.status === 'number' ? String(response.status) : 'error');
    };
    const record = (status: string) =>
      observe?.({
        endpoint: endpoints.endpointOf(config.url ?? ''),
        method: (config.method ?? 'get').toUpperCase(),
        status,
        durationSeconds: (performance.now() - started) / 1000,
      });
    try {
      // acme-client asks for nonces with HEAD. Pebble answers HEAD in a way that makes Node drop
      // the connection afterwards, so each nonce cost a new TLS handshake; GET on newNonce is
      // equally standard (RFC 8555 7.2: 204 with Replay-Nonce) and keeps the connection.
      const response = await adapter(config.method?.toLowerCase() === 'head' ? { ...config, method: 'get' } : config);
      answered(response);
      return response;
    } catch (error) {
      // acme-client makes every answer an error (validateStatus: false) to see it in its interceptor.
      const failed = error as { response?: { status?: unknown; data?: unknown }; code?: string; message?: string };
      if (failed.response) answered(failed.response);
      else record('error');
      if (failed.response) throw error;
      throw Object.assign(new Error(`${failed.message ?? 'network error'} (${config.method?.toUpperCase()} ${config.url})`), {
        code: failed.code,
      });
    }
  };
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
