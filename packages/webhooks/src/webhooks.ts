import type { ConnectionOptions, Worker } from 'bullmq';
import type { WebhookConfig } from '@certfleet/config';
import { type DescribeStore, describeHostname } from '@certfleet/hostnames';
import { errorMessage, type Logger, type Registry } from '@certfleet/observability';
import { createWebhookQueue, type WebhookJobData } from '@certfleet/queue';
import type { HostnameEventSink } from './contract.js';
import { createWebhookPublisher } from './publisher.js';
import { startWebhookWorker } from './worker.js';

export interface Webhooks {
  /** Publish events here. */
  events: HostnameEventSink;
  /** Stops the delivery worker (letting running deliveries end) and closes the queue. */
  close(): Promise<void>;
}

export interface OpenWebhooksOptions {
  /** The role's BullMQ connection. */
  connection: ConnectionOptions;
  /** The role's store: the queue's prefix, and the hostname objects events carry. */
  store: DescribeStore & { queuePrefix: string };
  /** WEBHOOK_* as loaded; undefined (WEBHOOK_URLS unset) = no webhooks. */
  config: WebhookConfig | undefined;
  logger: Logger;
  /**
   * Run the delivery worker here, its metrics on this registry: the issuer role does. Roles
   * that only publish (renewer, dashboard, CLI) leave it out.
   */
  deliver?: { registry: Registry };
}

/**
 * A role's webhooks from WEBHOOK_* : the queue, the publisher, and (issuer only) the delivery
 * worker; undefined when WEBHOOK_URLS is not set.
 */
export async function openWebhooks(options: OpenWebhooksOptions): Promise<Webhooks | undefined> {
  const { config, logger, store } = options;
  if (!config) return undefined;
  const prefix = store.queuePrefix;
  const queue = createWebhookQueue({
    connection: options.connection,
    prefix,
    retry: { backoffMs: config.backoffMs, retryForMs: config.retryForMs },
  });
  queue.on('error', (error) => logger.warn({ err: errorMessage(error) }, 'webhook queue error'));
  await queue.waitUntilReady();
  let worker: Worker<WebhookJobData, void> | undefined;
  if (options.deliver) {
    worker = startWebhookWorker({
      connection: options.connection,
      prefix,
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
    events: createWebhookPublisher({ queue, urls: config.urls, describe: (name) => describeHostname(store, name), logger }),
    async close() {
      await worker?.close();
      await queue.close();
    },
  };
}
