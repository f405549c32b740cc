import { createHash } from 'node:crypto';

const TEN_DAYS_MS = 10 * 86_400_000;
/** Renewals of one batch (a bulk import) spread over this share of their lifetime, by name. */
const JITTER_SHARE = 0.05;

/**
 * When to renew a certificate that has no ARI window: when `fraction` of its lifetime remains
 * (a third by default, as Let's Encrypt advises; at least half for lifetimes under ten days,
 * which leave little room for a failed attempt), moved earlier by a per-name jitter of up to 5 %
 * of the lifetime so that certificates issued together do not renew together. Deterministic:
 * the same certificate always gets the same time.
 */
export function renewalTime(cert: { name?: string; notBefore: number; notAfter: number }, fraction = 1 / 3): number {
  const lifetime = Math.max(0, cert.notAfter - cert.notBefore);
  const share = lifetime < TEN_DAYS_MS ? Math.max(fraction, 0.5) : fraction;
  const jitter = cert.name === undefined ? 0 : nameFraction(cert.name) * JITTER_SHARE * lifetime;
  return Math.round(cert.notAfter - lifetime * share - jitter);
}

/** A stable number in [0, 1) for a name. */
function nameFraction(name: string): number {
  return createHash('sha256').update(name).digest().readUInt32BE(0) / 2 ** 32;
}
