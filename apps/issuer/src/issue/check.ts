import type { Job } from 'bullmq';
import { checkHostname } from '@certfleet/domain';
import { IssueJobData, type IssueJobResult, type IssueReason } from '@certfleet/queue';
import { renewalTime } from '@certfleet/renewal';
import type { NameState, StoredCertificate } from '@certfleet/store';
import { unrecoverable } from './errors.js';

/** The job's payload, checked: a name that is not a normalised host name fails the job for good. */
export function readIssueJob(job: Pick<Job<IssueJobData, IssueJobResult>, 'id' | 'data'>): IssueJobData {
  const data = IssueJobData.parse(job.data);
  const check = checkHostname(data.name);
  if (!check.ok || check.name !== data.name) {
    throw unrecoverable(
      `job ${job.id} names "${data.name}", which is not a valid host name: ${check.ok ? 'not normalised' : check.reason}`,
    );
  }
  return data;
}

/**
 * The answer when the stored certificate already does the job (issuance is idempotent): it is
 * unexpired, and, for a renewal, not yet due. Undefined when an order is needed.
 */
export function alreadyValid(
  existing: StoredCertificate | null,
  reason: IssueReason,
  now: number,
  renewFraction: number,
): IssueJobResult | undefined {
  if (!existing || existing.notAfter <= now) return undefined;
  // Due as scheduled at issuance (an ARI window, or our own point for certificates stored before).
  const dueAt = existing.renewAt ?? renewalTime(existing, renewFraction);
  if (reason === 'renewal' && dueAt <= now) return undefined;
  return { outcome: 'already-valid', serial: existing.serial, notAfter: existing.notAfter };
}

/**
 * Fails the job for good when the name must not be ordered now, whatever path the job came by:
 * it failed permanently (an operator must act), or it is cooling down after a failed validation.
 */
export function refuseBlockedName(name: string, state: NameState | null, now: number): void {
  if (state?.state === 'failed') {
    throw unrecoverable(`${name} failed permanently (${state.lastError}); run 'certfleet domains retry ${name}' once fixed`);
  }
  if (state?.state === 'cooling' && (state.coolUntil ?? 0) > now) {
    throw unrecoverable(`${name} is cooling down after a failed validation until ${new Date(state.coolUntil ?? 0).toISOString()}`);
  }
}
