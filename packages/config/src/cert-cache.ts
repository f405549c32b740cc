/**
 * What one cached certificate costs, on average: a TLS secure context is about 27 KB (OpenSSL's
 * memory, see estimatedContextBytes in @certfleet/tls) for an ECDSA certificate and its chain.
 */
const CONTEXT_BYTES = 27 * 1024;

const MB = 1024 * 1024;

/** The memory bound when neither setting is given: 64 MB per edge process, about 2,400 names. */
const DEFAULT_CERT_CACHE_MB = 64;

/**
 * The certificate cache's two bounds, count and bytes, from EDGE_CERT_CACHE_SIZE and
 * EDGE_CERT_CACHE_MB, so that whichever the operator sets is the one that binds:
 *
 * - neither: 64 MB, and as many names as that holds;
 * - only SIZE: that many names, and the memory they need (SIZE x 27 KB), so 10000 keeps 10000
 *   names (a fixed 64 MB default would have capped it near 2,400 without a word);
 * - only MB: that memory, and as many names as it holds;
 * - both: both bounds, and a warning when SIZE names cannot fit in MB (the count would never bind).
 *
 * The byte bound is an estimate per context: a dual ECDSA+RSA name costs about twice as much, so
 * with RSA the cache holds fewer names than the count (the memory bound is the one kept).
 */
export function certCacheBounds(given: { size: number | undefined; megabytes: number | undefined }, warnings: string[]) {
  const { size, megabytes } = given;
  if (size === undefined) {
    const mb = megabytes ?? DEFAULT_CERT_CACHE_MB;
    return { size: Math.max(1, Math.floor((mb * MB) / CONTEXT_BYTES)), bytes: mb * MB };
  }
  if (megabytes === undefined) return { size, bytes: size * CONTEXT_BYTES };
  const fits = Math.floor((megabytes * MB) / CONTEXT_BYTES);
  if (size > fits) {
    warnings.push(
      `EDGE_CERT_CACHE_SIZE=${size} cannot be reached: EDGE_CERT_CACHE_MB=${megabytes} holds about ${fits} certificates (27 KB each); raise EDGE_CERT_CACHE_MB to ${Math.ceil((size * CONTEXT_BYTES) / MB)}, lower EDGE_CERT_CACHE_SIZE, or leave one of the two unset`,
    );
  }
  return { size, bytes: megabytes * MB };
}
