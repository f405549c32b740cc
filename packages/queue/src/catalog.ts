import { z } from 'zod';

/**
 * The job catalog: every queue, job name, payload and priority certfleet uses, in one place.
 * Payloads are idempotent: running a job twice never orders twice (the issuer checks the store).
 */
export const ISSUE_QUEUE = 'issue';
export const ISSUE_JOB = 'issue-certificate';

/** Why a certificate is wanted; decides the job's priority. */
export const IssueReason = z.enum(['visitor', 'provision', 'renewal']);
export type IssueReason = z.infer<typeof IssueReason>;

export const IssueJobData = z.object({
  name: z.string().min(1).max(253),
  reason: IssueReason,
  requestedAt: z.number().int().nonnegative(),
});
export type IssueJobData = z.infer<typeof IssueJobData>;

export const IssueJobResult = z.object({
  outcome: z.enum(['issued', 'already-valid', 'retired']),
  serial: z.string(),
  notAfter: z.number(),
});
export type IssueJobResult = z.infer<typeof IssueJobResult>;

/**
 * BullMQ runs lower numbers first. Every job gets a priority: a job without one would run
 * before all prioritized jobs. A visitor waiting in a handshake comes first, then
 * pre-provisioning, then renewals.
 */
export const PRIORITY: Record<IssueReason, number> = { visitor: 1, provision: 5, renewal: 10 };

/**
 * One unfinished issuance job per name, fleet-wide, whatever its reason. A deduplication id
 * (not a custom job id) because a custom id also blocks re-adding after the job finished, which
 * would silently drop a later re-issue of the same name.
 */
export const issueDeduplicationId = (name: string) => `issue-${name}`;
