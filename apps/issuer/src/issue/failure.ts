import { classifyAcmeFailure } from '@certfleet/acme';
import type { Logger } from '@certfleet/observability';
import type { NameState } from '@certfleet/store';
import { failedAuthzClaim } from '../ca-pool.js';
import { customerProblem } from './customer-detail.js';
import type { IssueJobDeps, IssuingCa } from './deps.js';
import { unrecoverable } from './errors.js';

/** A name's first failed validation cools it down this long; each failure in a row doubles it. */
export const FIRST_COOL_DOWN_MS = 60_000;
export const MAX_COOL_DOWN_MS = 24 * 3_600_000;
/** A CA that 429ed without Retry-After, or is unreachable, is left alone this long. */
export const DEFAULT_RATE_LIMIT_PAUSE_MS = 60_000;
export const DEFAULT_UNAVAILABLE_PAUSE_MS = 10_000;

/** How long a name cools down after its `failures`-th failed validation in a row. */
export function coolDownMs(failures: number): number {
  return Math.min(MAX_COOL_DOWN_MS, FIRST_COOL_DOWN_MS * 2 ** (failures - 1));
}

/**
 * Acts on a failed order by what the failure means (see `classifyAcmeFailure`):
 * - rate-limited, unavailable: pauses the CA for the fleet and returns how long, so the job
 *   tries the next CA (and waits at most that long for this one);
 * - validation: cools the name down (doubling each time in a row, and at least until the CA's
 *   failed-authorization budget refills) and fails the job for good;
 * - permanent: marks the name failed until an operator acts, and fails the job for good;
 * - transient: notes the error and rethrows it, for BullMQ to retry with backoff.
 */
export async function handleOrderFailure(
  error: unknown,
  at: { name: string; ca: IssuingCa; state: NameState | null },
  deps: Pick<IssueJobDeps, 'store' | 'budgets' | 'clock' | 'edgeTarget'>,
  log: Logger,
): Promise<number> {
  const { name } = at;
  const caName = at.ca.config.name;
  const failure = classifyAcmeFailure(error);
  const now = deps.clock();
  log.warn({ ca: caName, kind: failure.kind, retryAfterMs: failure.retryAfterMs, err: failure.message }, 'order failed');
  switch (failure.kind) {
    case 'rate-limited':
    case 'unavailable': {
      const pauseMs =
        failure.retryAfterMs ?? (failure.kind === 'rate-limited' ? DEFAULT_RATE_LIMIT_PAUSE_MS : DEFAULT_UNAVAILABLE_PAUSE_MS);
      await deps.store.pauses.pauseCa(caName, { until: now + pauseMs, reason: failure.message }, now);
      await deps.store.nameStates.noteError(name, failure.message, now);
      return pauseMs;
    }
    case 'validation': {
      let coolMs = coolDownMs((at.state?.failures ?? 0) + 1);
      const authz = await deps.budgets.takeAll([failedAuthzClaim(at.ca.config, deps.store, name)]);
      if (!authz.granted) coolMs = Math.max(coolMs, authz.retryAfterMs);
      await deps.store.issueRecords.addValidationError(name, { at: now, ...customerProblem(name, error, deps.edgeTarget) });
      await deps.store.nameStates.markCooling(name, failure.message, now + coolMs, now);
      throw unrecoverable(`validation of ${name} failed; cooling down for ${Math.round(coolMs / 1000)} s: ${failure.message}`, error);
    }
    case 'permanent':
      await deps.store.issueRecords.addValidationError(name, { at: now, ...customerProblem(name, error, deps.edgeTarget) });
      await deps.store.nameStates.markFailed(name, failure.message, now);
      throw unrecoverable(`the CA refuses ${name}: ${failure.message}`, error);
    case 'transient':
      await deps.store.nameStates.noteError(name, failure.message, now);
      throw error;
  }
}
