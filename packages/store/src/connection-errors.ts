/**
 * Errors from a Redis connection that retrying will not cure: the server's certificate is not
 * trusted, it wants a client certificate, or it refuses the credentials. Each says which
 * variable to set; anything else (refused, reset, timed out) may pass and is not explained.
 */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What to tell the operator about a connection error that will not pass, or undefined. */
export function permanentConnectionProblem(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (UNTRUSTED.has(code)) {
    return `the server's TLS certificate is not trusted (${error.message}): set REDIS_TLS_CA_FILE to the CA certificate that signed it`;
  }
  if (
    code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' ||
    /certificate required|peer did not return a certificate/i.test(error.message)
  ) {
    return `the server requires a client certificate (${error.message}): set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE`;
  }
  if (/^(WRONGPASS|NOAUTH)/.test(error.message)) {
    return `the server refused the credentials (${error.message}): check the user and password in REDIS_URL`;
  }
  return undefined;
}
