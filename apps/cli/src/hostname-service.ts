import { userInfo } from 'node:os';
import { type CommonConfig, loadPolicyConfig, loadWebhookConfig } from '@certfleet/config';
import { type Actor, createHostnameService, type HostnameService } from '@certfleet/hostnames';
import { createLogger } from '@certfleet/observability';
import { createIssueQueue } from '@certfleet/queue';
import type { RedisClient, Store } from '@certfleet/store';
import { openWebhooks } from '@certfleet/webhooks';
import { withStore } from './admin.js';

/**
 * Runs `work` with the hostname service the API uses too (@certfleet/hostnames), so the CLI's
 * `domains` commands and `/v1/hostnames` cannot drift: same validation, registry, audit stream,
 * and the same webhook events when WEBHOOK_URLS is set (queued here, delivered by the issuers).
 */
export function withHostnameService<T>(
  config: CommonConfig,
  work: (service: HostnameService, store: Store, redis: RedisClient) => Promise<T>,
): Promise<T> {
  // FORBIDDEN_SUFFIXES as the dashboard reads it: the CLI refuses the names the API refuses.
  const warnings: string[] = [];
  const { forbiddenSuffixes } = loadPolicyConfig(process.env, warnings);
  const webhookConfig = loadWebhookConfig(process.env, warnings);
  for (const warning of warnings) process.stderr.write(`certfleet: warning: ${warning}\n`);
  return withStore(config, async (store, redis) => {
    const queue = createIssueQueue({ connection: redis, prefix: store.queuePrefix });
    // Standard output is the command's own (--json): a publish that fails is told on standard error.
    const logger = createLogger({ role: 'cli', level: 'warn', destination: process.stderr });
    const webhooks = await openWebhooks({ connection: redis, store, config: webhookConfig, logger });
    try {
      const service = createHostnameService({ store, queue, forbiddenSuffixes, ...(webhooks ? { events: webhooks.events } : {}) });
      return await work(service, store, redis);
    } finally {
      await webhooks?.close();
      await queue.close();
    }
  });
}

/** Who the audit stream records for a CLI change: the system user running it (never a secret). */
export function cliActor(): Actor {
  let id = process.env.USER ?? '';
  try {
    id = userInfo().username;
  } catch {
    // No passwd entry (a container's arbitrary uid): USER, else the uid.
  }
  return { kind: 'cli', id: id || `uid-${process.getuid?.() ?? '?'}` };
}
