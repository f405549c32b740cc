import { DelayedError, type Job } from 'bullmq';
import type { Logger } from '@certfleet/observability';
import type { IssueJobData, IssueJobResult, IssueReason } from '@certfleet/queue';
import type { IssueJobDeps } from './deps.js';

/**
 * A renewal refused by a budget waits for a token plus a random share of this, so that a
 * backlog of hundreds of delayed renewals does not wake up together for each token (one wins,
 * the rest go back to sleep): the backlog still drains at the bucket's pace.
 */
export const RENEWAL_SPREAD_MS = 30_000;
/** Never wake a delayed job sooner than this, whatever a CA said. */
const MIN_DELAY_MS = 1_000;

/** `ms` give or take 10 %. */
export function jitter(ms: number, random: () => number): number {
  return Math.round(ms * (0.9 + random() * 0.2));
}

/** How long a job waits when no CA could take its order: until the soonest of `waits`, jittered, spread for renewals. */
export function retryDelayMs(waits: readonly number[], reason: IssueReason, random: () => number): number {
  const soonest = jitter(Math.max(MIN_DELAY_MS, Math.min(...waits)), random);
  return soonest + (reason === 'renewal' ? Math.round(random() * RENEWAL_SPREAD_MS) : 0);
}

/**
 * No CA can take the order now: the job waits (delayed, not failed, no attempt spent) until the
 * soonest one can. For a visitor's job, edges are told to serve the fallback at once meanwhile
 * instead of holding handshakes for a job that cannot run.
 */
export async function delayUntilACaCanOrder(
  job: Pick<Job<IssueJobData, IssueJobResult>, 'moveToDelayed'>,
  token: string | undefined,
  waits: readonly number[],
  reason: IssueReason,
  deps: Pick<IssueJobDeps, 'store' | 'clock' | 'random'>,
  log: Logger,
): Promise<never> {
  const delayMs = retryDelayMs(waits, reason, deps.random);
  const until = deps.clock() + delayMs;
  if (reason === 'visitor') {
    await deps.store.pauses.blockIssuance({ until, reason: 'no CA can take an order now' }, deps.clock());
  }
  log.info({ delayMs }, 'no CA can take the order now; job delayed');
  await job.moveToDelayed(until, token);
  throw new DelayedError();
}
