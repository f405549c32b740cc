import type { Queue } from 'bullmq';
import { requestIssuance, type IssueJobData, type IssueJobResult } from '@certfleet/queue';
import type { CertificateStore, RenewalIndex } from '@certfleet/store';

/** Renewal jobs added to the queue at once. */
const ENQUEUE_PAGE = 100;

export interface RenewalTickOptions {
  renewals: RenewalIndex;
  certificates: CertificateStore;
  queue: Queue<IssueJobData, IssueJobResult>;
  now: number;
  /** Most renewals enqueued by this tick. */
  batch: number;
  /** When to look at an enqueued name again if its renewal did not happen. */
  retryMs: number;
}

/**
 * One pass of the renewer: reads only the due slice of the index (cost grows with what is due,
 * not with what is stored), moves those names `retryMs` ahead and enqueues one renewal job each.
 * Moving first means a renewal that completes at once (and re-indexes the name) is never
 * overwritten, and a failed enqueue is looked at again later. Enqueuing is idempotent per name.
 */
export async function runRenewalTick(options: RenewalTickOptions): Promise<{ enqueued: string[]; removed: string[] }> {
  // Retired certificates (customers who left) are kept until they expire, then removed.
  const removed = await options.certificates.removeExpiredRetired(options.now, options.batch);
  const due = await options.renewals.due(options.now, options.batch);
  if (due.length === 0) return { enqueued: [], removed };
  await options.renewals.postpone(due, options.now + options.retryMs);
  // Enqueued a page at a time in parallel: one round trip per page rather than per name.
  for (let start = 0; start < due.length; start += ENQUEUE_PAGE) {
    await Promise.all(
      due
        .slice(start, start + ENQUEUE_PAGE)
        .map((name) => requestIssuance(options.queue, { name, reason: 'renewal', requestedAt: options.now })),
    );
  }
  return { enqueued: due, removed };
}
