import type { Worker } from 'bullmq';
import type { WebhookConfig } from '@certfleet/config';
import { errorMessage, type Logger, type Registry } from '@certfleet/observability';
import { createWebhookQueue, type QueueConnection, type WebhookJobData } from '@certfleet/queue';
import type { DescribeHostname, HostnameEventSink } from './contract.js';
import { createWebhookPublisher } from './publisher.js';
import { startWebhookWorker } from './worker.js';

export interface Webhooks {
  /** Publish events here. */
  events: HostnameEventSink;
  /** Stops the delivery worker (letting running deliveries end) and closes the queue. */
  close(): Promise<void>;
}

export interface OpenWebhooksOptions extends QueueConnection {
  config: WebhookConfig;
  describe: DescribeHostname;
  logger: Logger;
  /**
   * Run the delivery worker here, its metrics on this registry: the issuer role does. Roles
   * that only publish (renewer, dashboard, CLI) leave it out.
   */
  deliver?: { registry: Registry };
}

/** A role's webhooks from WEBHOOK_* : the queue, the publisher, and (issuer only) the delivery worker. */
export async function openWebhooks(options: OpenWebhooksOptions): Promise<Webhooks> {
  const { config, logger } = options;
  const queue = createWebhookQueue({
    connection: options.connection,
    prefix: options.prefix,
    retry: { backoffMs: config.backoffMs, retryForMs: config.retryForMs },
  });
  queue.on('error', (error) => logger.warn({ err: errorMessage(error) }, 'webhook queue error'));
  await queue.waitUntilReady();
  let worker: Worker<WebhookJobData, void> | undefined;
  if (options.deliver) {
    worker = startWebhookWorker({
      connection: options.connection,
      prefix: options.prefix,
      urls: config.urls,
      secret: config.secret,
      timeoutMs: config.timeoutMs,
      queue,
      registry: options.deliver.registry,
      logger,
    });
    await worker.waitUntilReady();
  }
  return {
    events: createWebhookPublisher({ queue, urls: config.urls, describe: options.describe, logger }),
    async close() {
      await worker?.close();
      await queue.close();
    },
  };
}
