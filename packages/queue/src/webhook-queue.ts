import { Queue, Worker, type Processor } from 'bullmq';
import { WEBHOOK_QUEUE, type WebhookJobData } from './catalog.js';
import type { QueueConnection } from './issue-queue.js';

/** How a delivery is retried: the first retry after `backoffMs`, each next one after twice the last. */
export interface WebhookRetry {
  backoffMs: number;
  /** Stop once the retries' delays would add up to more than this (24 h by default). */
  retryForMs: number;
}

/**
 * Attempts (the first one included) whose exponential retry delays fit in `retryForMs`: delays
 * b, 2b, 4b ... add up to b(2^n - 1) after n retries. 10 s and 24 h give 13 retries, the last
 * about 11 h after the one before and 22.7 h after the first attempt. At least one retry.
 */
export function webhookAttempts(retry: WebhookRetry): number {
  const retries = Math.floor(Math.log2(retry.retryForMs / retry.backoffMs + 1));
  return 1 + Math.max(1, retries);
}

/** The webhooks queue; `retry` is for producers (it sets each job's attempts), a queue only looked at (bull-board) needs none. */
export function createWebhookQueue(options: QueueConnection & { retry?: WebhookRetry }): Queue<WebhookJobData> {
  const retry = options.retry;
  return new Queue<WebhookJobData>(WEBHOOK_QUEUE, {
    connection: options.connection,
    prefix: options.prefix,
    defaultJobOptions: {
      ...(retry && {
        attempts: webhookAttempts(retry),
        // Jitter spreads the retries of many deliveries to one receiver that came back.
        backoff: { type: 'exponential', delay: retry.backoffMs, jitter: 0.2 },
      }),
      // A delivered job is kept a day so that an event published again within it (a retried
      // issuance job) finds its id and is not delivered twice; given-up ones a week, for bull-board.
      removeOnComplete: { age: 86_400, count: 100_000 },
      removeOnFail: { age: 7 * 86_400, count: 100_000 },
    },
  });
}

export function createWebhookWorker(
  options: QueueConnection & { concurrency: number },
  processor: Processor<WebhookJobData, void>,
): Worker<WebhookJobData, void> {
  return new Worker<WebhookJobData, void>(WEBHOOK_QUEUE, processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
  });
}
