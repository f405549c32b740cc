import type { Queue } from 'bullmq';
import { redactUrl } from '@certfleet/config';
import { errorMessage, type Logger } from '@certfleet/observability';
import { WEBHOOK_JOB, webhookJobId, type WebhookJobData } from '@certfleet/queue';
import {
  type DescribeHostname,
  forgottenHostname,
  type HostnameEventSink,
  type HostnameEventType,
  type HostnameObject,
} from './contract.js';
import { eventId, receiverId } from './event-id.js';

/** The JSON body every receiver gets. */
export interface WebhookEvent {
  id: string;
  type: HostnameEventType;
  /** When the event was published (ISO 8601); a retried delivery keeps it. */
  created_at: string;
  data: HostnameObject;
}

export interface WebhookPublisherOptions {
  queue: Pick<Queue<WebhookJobData>, 'addBulk'>;
  /** WEBHOOK_URLS. */
  urls: readonly string[];
  /** The hostname's object at publish time (`describeHostname` of `@certfleet/hostnames`). */
  describe: DescribeHostname;
  logger: Logger;
  clock?: () => number;
}

/**
 * The event sink the issuer, the renewer and the hostname service publish to: it reads the
 * hostname's object once, builds the event and queues one delivery job per receiver. It never
 * throws into its caller's path (an issuance must not fail because a webhook could not be
 * queued): a failure is logged, and the event is lost only if the queue itself was unreachable.
 */
export function createWebhookPublisher(options: WebhookPublisherOptions): HostnameEventSink {
  const clock = options.clock ?? Date.now;
  const receivers = options.urls.map((url) => ({ id: receiverId(url), shown: redactUrl(url) }));
  return {
    async publish(type, hostname, key) {
      const id = eventId(type, hostname, key);
      const log = options.logger.child({ domain: hostname, eventId: id, event: type });
      try {
        const data = (await options.describe(hostname)) ?? forgottenHostname(hostname);
        const event: WebhookEvent = { id, type, created_at: new Date(clock()).toISOString(), data };
        const body = JSON.stringify(event);
        await options.queue.addBulk(
          receivers.map((receiver) => ({
            name: WEBHOOK_JOB,
            data: { eventId: id, type, hostname, receiver: receiver.id, receiverShown: receiver.shown, body },
            // The same event again finds this job and adds nothing (see webhookJobId).
            opts: { jobId: webhookJobId(id, receiver.id) },
          })),
        );
        log.debug({ receivers: receivers.length }, 'webhook event queued');
      } catch (error) {
        log.warn({ err: errorMessage(error) }, 'could not queue a webhook event; it is not delivered');
      }
    },
  };
}
