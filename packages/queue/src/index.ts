export {
  ISSUE_QUEUE,
  ISSUE_JOB,
  IssueReason,
  IssueJobData,
  IssueJobResult,
  PRIORITY,
  issueDeduplicationId,
} from './catalog.js';
export {
  createIssueQueue,
  createIssueQueueEvents,
  createIssueWorker,
  requestIssuance,
  waitForIssuance,
} from './issue-queue.js';
export type { QueueConnection, IssuanceRequest, IssuanceOutcome } from './issue-queue.js';
export { WEBHOOK_QUEUE, WEBHOOK_JOB, WebhookJobData, webhookJobId } from './catalog.js';
export { createWebhookQueue, createWebhookWorker, webhookAttempts } from './webhook-queue.js';
export type { WebhookRetry } from './webhook-queue.js';
