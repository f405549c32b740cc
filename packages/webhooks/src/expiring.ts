import type { CertificateStore, ExpiringCertificate, ExpiryWatch } from '@certfleet/store';
import type { HostnameEventSink } from './contract.js';

export interface ExpiringScanOptions {
  watch: ExpiryWatch;
  certificates: Pick<CertificateStore, 'describe'>;
  events: HostnameEventSink;
  now: number;
  /** WEBHOOK_EXPIRING_DAYS: how long before notAfter the event is sent. */
  windowMs: number;
  /** Most certificates looked at by one scan; the next scan goes on from there. */
  batch: number;
}

/**
 * Publishes `certificate.expiring` once for each certificate in the window (now < notAfter ≤
 * now + windowMs), keyed by its notAfter: one event per (name, notAfter). Renewal moves notAfter
 * out of the window, so a certificate in it has not been renewed; a certificate issued already
 * inside it (a lifetime shorter than the window) is announced too. Retired ones (not renewed on
 * purpose, announced by `certificate.retired`) are skipped. The window is read a batch per tick;
 * a fleet whose renewals work keeps it nearly empty, so a scan is a couple of commands. Returns
 * the names published.
 */
export async function publishExpiring(options: ExpiringScanOptions): Promise<string[]> {
  const { watch, now } = options;
  const windowEnd = now + options.windowMs;
  await watch.forgetExpired(now);
  const from = Math.max((await watch.cursor()) ?? now, now);
  const page = from < windowEnd ? await watch.between(from, windowEnd, options.batch) : [];
  const announced = await watch.announced(page.map((entry) => entry.name));
  const fresh = page.filter((entry, i) => announced[i] !== entry.notAfter);
  const published: ExpiringCertificate[] = [];
  for (const entry of fresh) {
    const cert = await options.certificates.describe(entry.name);
    // Gone, renewed since the inventory was read, or retired: nothing to announce.
    if (!cert || cert.notAfter !== entry.notAfter || cert.retiredAt !== undefined) continue;
    await options.events.publish('certificate.expiring', entry.name, String(entry.notAfter));
    published.push(entry);
  }
  await watch.markAnnounced(published);
  await watch.setCursor(nextCursor(page, options.batch));
  return published.map((entry) => entry.name);
}

/**
 * Where the next scan goes on: from the window's start once this one reached its end; after a
 * full page, just before its last notAfter (ties at the page's edge are read again and found
 * announced). A full page of one single notAfter is passed over whole, or the scan would stall.
 */
function nextCursor(page: readonly ExpiringCertificate[], batch: number): number | undefined {
  const first = page[0];
  const last = page[page.length - 1];
  if (page.length < batch || !first || !last) return undefined;
  return first.notAfter === last.notAfter ? last.notAfter : last.notAfter - 1;
}
