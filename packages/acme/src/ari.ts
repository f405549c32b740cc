import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** RFC 9773: a CA's suggested renewal window for one certificate. */
export interface RenewalWindow {
  start: number;
  end: number;
  /** When to ask again (the answer's Retry-After, clamped to 1 minute .. 1 day). */
  retryAfterMs: number;
  explanationUrl?: string | undefined;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** RFC 9773 section 4.1: base64url(authority key identifier) "." base64url(serial number bytes). */
export function ariCertificateId(chainPem: string): string {
  const leaf = new x509.X509Certificate(chainPem);
  const aki = leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  if (!aki) throw new Error('the certificate has no authority key identifier: it has no ARI id');
  return `${Buffer.from(aki, 'hex').toString('base64url')}.${Buffer.from(leaf.serialNumber, 'hex').toString('base64url')}`;
}

/**
 * How long until renewalInfo is asked again: the CA's Retry-After (6 h when it gives none),
 * at least `floorMs` (a minute unless the operator set ISSUER_ARI_MIN_RETRY: a CA's "1 s" must
 * not turn every issuer into a poller) and at most a day (RFC 9773 4.3).
 */
export function clampRetryAfter(ms: number | undefined, floorMs = MINUTE): number {
  return Math.min(DAY, Math.max(floorMs, ms ?? 6 * 3_600_000));
}

/**
 * A uniformly random time inside the CA's window (RFC 9773 4.2), never in the past and never in
 * the last tenth of the certificate's life (a window that reaches past expiry would otherwise
 * let it lapse). A window that has already ended means: renew now.
 */
export function pickRenewalTime(
  window: Pick<RenewalWindow, 'start' | 'end'>,
  cert: { notBefore: number; notAfter: number },
  now: number,
  random: () => number = Math.random,
): number {
  if (window.end <= now) return now;
  const latest = cert.notAfter - (cert.notAfter - cert.notBefore) / 10;
  const low = Math.max(window.start, now);
  const high = Math.min(window.end, latest);
  if (high <= low) return Math.min(low, Math.max(now, latest));
  return Math.round(low + random() * (high - low));
}
