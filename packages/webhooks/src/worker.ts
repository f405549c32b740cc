import { UnrecoverableError, type Job, type Queue, type Worker } from 'bullmq';
import { redactUrl } from '@certfleet/config';
import { Counter, errorMessage, Gauge, type Logger, type Registry } from '@certfleet/observability';
import { createWebhookWorker, WebhookJobData, type QueueConnection } from '@certfleet/queue';
import { deliverOnce, type DeliveryOutcome } from './delivery.js';
import { receiverId } from './event-id.js';

export interface WebhookWorkerOptions extends QueueConnection {
  urls: readonly string[];
  secret: string;
  timeoutMs: number;
  /** Deliveries in flight at once in this process: receivers answer slowly, not our CPU. */
  concurrency?: number;
  /** The queue, read for the depth gauge. */
  queue: Pick<Queue<WebhookJobData>, 'getJobCounts'>;
  registry: Registry;
  logger: Logger;
  clock?: () => number;
  fetch?: typeof fetch;
}

/** Queue states shown by certfleet_webhook_queue_depth. */
const DEPTH_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * The delivery worker (run by the issuer role): signs and POSTs each queued event to its
 * receiver. A non-2xx answer, a redirect, a timeout or a refused connection fails the attempt
 * and BullMQ retries it with exponential backoff; after the last attempt the job stays failed,
 * visible in bull-board. Counted in certfleet_webhook_deliveries_total{result}.
 */
export function startWebhookWorker(options: WebhookWorkerOptions): Worker<WebhookJobData, void> {
  const clock = options.clock ?? Date.now;
  const urls = new Map(options.urls.map((url) => [receiverId(url), url]));
  const deliveries = new Counter({
    name: 'certfleet_webhook_deliveries_total',
    help: 'Webhook delivery attempts by result: delivered (2xx), failed (will be retried), gave_up (last attempt failed, or the receiver is no longer configured)',
    labelNames: ['result'] as const,
    registers: [options.registry],
  });
  for (const result of ['delivered', 'failed', 'gave_up']) deliveries.inc({ result }, 0);
  new Gauge({
    name: 'certfleet_webhook_queue_depth',
    help: 'Webhook delivery jobs by queue state (delayed: waiting for a retry; failed: given up)',
    labelNames: ['state'] as const,
    registers: [options.registry],
    async collect() {
      const counts = await options.queue.getJobCounts(...DEPTH_STATES).catch(() => undefined);
      if (!counts) return;
      for (const state of DEPTH_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });

  const worker = createWebhookWorker(
    { connection: options.connection, prefix: options.prefix, concurrency: options.concurrency ?? 16 },
    async (job: Job<WebhookJobData, void>) => {
      const data = WebhookJobData.parse(job.data);
      const log = options.logger.child({ domain: data.hostname, eventId: data.eventId, event: data.type, jobId: job.id });
      const url = urls.get(data.receiver);
      if (!url) {
        deliveries.inc({ result: 'gave_up' });
        log.warn({ receiver: data.receiverShown }, 'webhook receiver no longer in WEBHOOK_URLS; delivery given up');
        throw new UnrecoverableError(`receiver ${data.receiverShown} is no longer in WEBHOOK_URLS`);
      }
      const outcome: DeliveryOutcome = await deliverOnce(
        {
          url,
          eventId: data.eventId,
          body: data.body,
          secret: options.secret,
          timeoutMs: options.timeoutMs,
          nowSeconds: Math.floor(clock() / 1000),
        },
        options.fetch,
      );
      const attempt = job.attemptsMade + 1;
      const attempts = job.opts.attempts ?? 1;
      const shown = redactUrl(url);
      if (outcome.delivered) {
        deliveries.inc({ result: 'delivered' });
        log.info({ receiver: shown, status: outcome.status, attempt }, 'webhook delivered');
        return;
      }
      const last = attempt >= attempts;
      deliveries.inc({ result: last ? 'gave_up' : 'failed' });
      log.warn(
        { receiver: shown, status: outcome.status, attempt, attempts, err: outcome.reason },
        last ? 'webhook delivery failed for the last time; given up' : 'webhook delivery failed; will retry',
      );
      throw new Error(`${shown} ${outcome.reason}`);
    },
  );
  worker.on('error', (error) => options.logger.error({ err: errorMessage(error) }, 'webhook worker error'));
  return worker;
}
