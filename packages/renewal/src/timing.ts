/**
 * When to renew a certificate that has no ARI window: when `fraction` of its lifetime remains
 * (a third by default, as Let's Encrypt advises), so a 90-day certificate renews 30 days before
 * expiry and a 2-minute test certificate 40 seconds before.
 */
export function renewalTime(cert: { notBefore: number; notAfter: number }, fraction = 1 / 3): number {
  const lifetime = Math.max(0, cert.notAfter - cert.notBefore);
  return Math.round(cert.notAfter - lifetime * fraction);
}
