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

/**
 * Webhook deliveries: one job per (event, receiver), so a receiver that fails is retried on its
 * own and never holds back the others. The job id is `<event id>-<receiver id>`: an event
 * published twice (a retried issuance job) finds its delivery already queued and adds nothing.
 */
export const WEBHOOK_QUEUE = 'webhooks';
export const WEBHOOK_JOB = 'deliver-webhook';

export const WebhookJobData = z.object({
  /** The event's stable id (`evt_` + 32 hex digits), also sent as `Certfleet-Event-Id`. */
  eventId: z.string().regex(/^evt_[0-9a-f]{32}$/),
  type: z.string().min(1).max(64),
  hostname: z.string().min(1).max(253),
  /**
   * Which configured receiver (a hash of its URL, never the URL: it may carry credentials, and
   * job data is shown in bull-board). A receiver removed from WEBHOOK_URLS is given up.
   */
  receiver: z.string().regex(/^[0-9a-f]{16}$/),
  /** Where it goes, redacted: for people reading bull-board. */
  receiverShown: z.string().max(2_048),
  /** The exact bytes that are signed and sent: the JSON event. */
  body: z.string().max(1_000_000),
});
export type WebhookJobData = z.infer<typeof WebhookJobData>;

/** The delivery job's id: BullMQ forbids ':' in ids, and neither part has one. */
export const webhookJobId = (eventId: string, receiver: string) => `${eventId}-${receiver}`;
