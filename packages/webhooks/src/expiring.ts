import type { CertificateStore, ExpiryWatch } from '@certfleet/store';
import type { HostnameEventSink } from './contract.js';

export interface ExpiringScanOptions {
  watch: ExpiryWatch;
  certificates: Pick<CertificateStore, 'describe'>;
  events: HostnameEventSink;
  now: number;
  /** WEBHOOK_EXPIRING_DAYS: how long before notAfter the event is sent. */
  windowMs: number;
  /** Most certificates looked at by one scan; the rest wait for the next tick. */
  batch: number;
}

/**
 * Publishes `certificate.expiring` for each certificate that entered the window
 * (notAfter ≤ now + windowMs) since the last scan, keyed by its notAfter: one event per
 * (name, notAfter). Renewal moves notAfter, so a certificate still in the window was not
 * renewed. Retired ones (not renewed on purpose, announced by `certificate.retired`) and
 * expired ones are skipped. Returns the names published.
 */
export async function publishExpiring(options: ExpiringScanOptions): Promise<string[]> {
  const { watch, now } = options;
  const windowEnd = now + options.windowMs;
  // The first scan starts at now; after a long stop, certificates that expired meanwhile are past, not expiring.
  const from = Math.max((await watch.edge()) ?? now, now);
  if (from >= windowEnd) return [];
  const page = await watch.between(from, windowEnd, options.batch);
  const published: string[] = [];
  for (const entry of page) {
    const cert = await options.certificates.describe(entry.name);
    // Gone, renewed since the inventory was read, or retired: nothing to announce.
    if (!cert || cert.notAfter !== entry.notAfter || cert.retiredAt !== undefined) continue;
    await options.events.publish('certificate.expiring', entry.name, String(entry.notAfter));
    published.push(entry.name);
  }
  await watch.advance(nextEdge(page, options.batch, windowEnd));
  return published;
}

/**
 * Where the next scan starts. A full page may have stopped inside a run of equal notAfters: the
 * next scan starts just before the last one, reading those again (their events have the same ids
 * and are not queued twice). A full page of one single notAfter is passed over whole, or the walk
 * would never move.
 */
function nextEdge(page: { notAfter: number }[], batch: number, windowEnd: number): number {
  const first = page[0];
  const last = page[page.length - 1];
  if (page.length < batch || !first || !last) return windowEnd;
  return first.notAfter === last.notAfter ? last.notAfter : last.notAfter - 1;
}
