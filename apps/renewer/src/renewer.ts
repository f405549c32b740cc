import type { RenewerConfig } from '@certfleet/config';
import { errorMessage, type Logger } from '@certfleet/observability';
import { createIssueQueue } from '@certfleet/queue';
import { runRenewalTick } from '@certfleet/renewal';
import { connectTo, createStore, warnAboutRedisSettings } from '@certfleet/store';
import { openWebhooks, publishExpiring } from '@certfleet/webhooks';

/**
 * The renewer: on every tick, enqueues renewals for the certificates that are due. Any number
 * may run; a fleet-wide lease lets one tick run at a time. Ticks drain a backlog page by page.
 */
export async function startRenewer(config: RenewerConfig, logger: Logger, clock: () => number = Date.now) {
  const redis = connectTo(config.redis, { forBullmq: true, connectionName: 'certfleet-renewer' });
  redis.on('error', (error) => logger.warn({ err: errorMessage(error) }, 'redis connection error'));
  void warnAboutRedisSettings(redis, logger);
  const store = createStore(redis, config.prefix);
  const queue = createIssueQueue({ connection: redis, prefix: store.queuePrefix });
  queue.on('error', (error) => logger.warn({ err: errorMessage(error) }, 'issue queue error'));
  await queue.waitUntilReady();
  // certificate.expiring is published by the tick; the issuer role delivers it.
  const webhooks = await openWebhooks({ connection: redis, store, config: config.webhooks, logger });

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  async function tick(): Promise<void> {
    try {
      // The lease outlives a slow tick by far; a tick that dies frees it when it expires.
      const outcome = await store.leases.run('renewal-tick', Math.max(30_000, config.tickMs * 5), async () => {
        const renewals = await runRenewalTick({
          renewals: store.renewals,
          certificates: store.certificates,
          queue,
          now: clock(),
          batch: config.batch,
          retryMs: config.retryMs,
        });
        const expiring = webhooks
          ? await publishExpiring({
              watch: store.expiryWatch,
              certificates: store.certificates,
              events: webhooks.events,
              now: clock(),
              windowMs: config.webhooks?.expiringMs ?? 0,
              batch: config.batch,
            })
          : [];
        return { ...renewals, expiring };
      });
      if (outcome.ran && outcome.value.enqueued.length > 0) {
        logger.info({ count: outcome.value.enqueued.length, names: outcome.value.enqueued.slice(0, 20) }, 'renewals enqueued');
      }
      if (outcome.ran && outcome.value.expiring.length > 0) {
        logger.info({ count: outcome.value.expiring.length, names: outcome.value.expiring.slice(0, 20) }, 'certificate.expiring published');
      }
      if (outcome.ran && outcome.value.removed.length > 0) {
        logger.info(
          { count: outcome.value.removed.length, names: outcome.value.removed.slice(0, 20) },
          'expired retired certificates removed',
        );
      }
    } catch (error) {
      logger.warn({ err: errorMessage(error) }, 'renewal tick failed; trying again next tick');
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, config.tickMs);
  }

  running = tick().finally(schedule);
  logger.info({ tickMs: config.tickMs, batch: config.batch }, 'renewer ready');

  return {
    async close() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await webhooks?.close();
      await queue.close();
      redis.disconnect();
    },
  };
}
