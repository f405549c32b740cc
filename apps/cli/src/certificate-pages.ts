import type { CertificateStore, CertificateSummary } from '@certfleet/store';

/** Which stored certificates `certs ls` shows: renewed when due, retired (kept until expiry), or both. */
export type CertificateFilter = 'active' | 'retired' | 'all';

export interface CertificatePage {
  certificates: CertificateSummary[];
  /** The inventory position to pass as `--from` for the next page; null when nothing more matches. */
  next: number | null;
}

/** Inventory entries read per round trip while looking for matching certificates. */
const CHUNK = 1_000;

const matches = (filter: CertificateFilter, cert: CertificateSummary) =>
  filter === 'all' || (filter === 'retired') === (cert.retiredAt !== undefined);

/**
 * Up to `limit` certificates matching `filter`, soonest expiry first, starting at inventory
 * position `from`. The filter applies before the limit (issue 13: `--state retired` used to
 * filter the first 1,000 rows only), and `next` says where the following match is, so a caller
 * can say that more exist and how to get them. A filter that matches few certificates reads
 * the whole inventory from `from` on: one round trip per {@link CHUNK} entries.
 */
export async function certificatePage(
  certificates: Pick<CertificateStore, 'list' | 'count'>,
  options: { from: number; limit: number; filter: CertificateFilter },
): Promise<CertificatePage> {
  const found: CertificateSummary[] = [];
  for await (const { position, cert } of inventoryFrom(certificates, options.from)) {
    if (!matches(options.filter, cert)) continue;
    if (found.length === options.limit) return { certificates: found, next: position };
    found.push(cert);
  }
  return { certificates: found, next: null };
}

/**
 * The inventory from position `from` on, with each entry's position. `list` leaves out a name
 * whose certificate hash is missing (a save cut short between hash and index), which would
 * shift the positions after it: a chunk that comes back short of what the inventory holds is
 * read again one entry at a time, so every position given out is exact.
 */
async function* inventoryFrom(
  certificates: Pick<CertificateStore, 'list' | 'count'>,
  from: number,
): AsyncGenerator<{ position: number; cert: CertificateSummary }> {
  for (let offset = from; ; offset += CHUNK) {
    const rows = await certificates.list(offset, CHUNK);
    if (rows.length === CHUNK) {
      for (const [i, cert] of rows.entries()) yield { position: offset + i, cert };
      continue;
    }
    const total = await certificates.count();
    const end = Math.min(offset + CHUNK, total);
    if (rows.length === end - offset) {
      for (const [i, cert] of rows.entries()) yield { position: offset + i, cert };
    } else {
      for (let position = offset; position < end; position += 1) {
        const [cert] = await certificates.list(position, 1);
        if (cert) yield { position, cert };
      }
    }
    if (end < offset + CHUNK) return;
  }
}
