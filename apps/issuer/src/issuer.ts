import { UnrecoverableError } from 'bullmq';
import { configureAcmeHttp } from '@certfleet/acme';
import type { IssuerConfig } from '@certfleet/config';
import { Counter, createRegistry, errorMessage, serveMetrics, type Logger } from '@certfleet/observability';
import { createDecisionService, createPolicyChainFromConfig, evaluationTimeoutMs } from '@certfleet/policy';
import { createKeyring } from '@certfleet/sealing';
import { createIssueQueue, createIssueWorker, PRIORITY } from '@certfleet/queue';
import { connectTo, createMetricReads, createStore, replicaAcknowledgement, warnAboutRedisSettings } from '@certfleet/store';
import { openWebhooks } from '@certfleet/webhooks';
import { startAriPoller } from './ari-poller.js';
import { createCaPool } from './ca-pool.js';
import { createIssuerMetrics, registerIssuerFleetMetrics } from './certificate-metrics.js';
import { runIssueJob } from './issue-job.js';
import { http01Responder, tlsAlpn01Responder } from './responders.js';

export interface RunningRole {
  /** Stops taking work, lets running work finish, and closes connections. */
  close(): Promise<void>;
}

/**
 * The issuer: a BullMQ worker that runs the ACME flow for issuance jobs. Any number may run;
 * they share one ACME account per CA (created by whichever starts first), the CA budgets and
 * pauses, all in Redis.
 */
export async function startIssuer(config: IssuerConfig, logger: Logger): Promise<RunningRole> {
  const registry = createRegistry('issuer');
  const metrics = createIssuerMetrics(registry);
  configureAcmeHttp({
    caBundlePems: config.cas.flatMap((ca) => (ca.caBundlePem ? [ca.caBundlePem] : [])),
    onRequest: metrics.onAcmeRequest,
  });
  const redis = connectTo(config.redis, { forBullmq: true, connectionName: 'certfleet-issuer' });
  redis.on('error', (error) => logger.warn({ err: errorMessage(error) }, 'redis connection error'));
  void warnAboutRedisSettings(redis, logger);
  // A certificate a visitor was served must survive a failover: each save waits (bounded) for a
  // replica; so does a job's claim before its order (runIssueJob's claimDurable).
  const durability = replicaAcknowledgement(redis, {
    onUnacknowledged: ({ timeoutMs }) =>
      logger.warn({ timeoutMs }, 'no replica acknowledged a certificate write in time; a failover now could lose it'),
    onError: (error) => logger.warn({ err: errorMessage(error) }, 'could not wait for a replica after a certificate write'),
  });
  // Certificate and account keys are sealed with it before they reach Redis (CERTFLEET_KEK_FILE).
  const store = createStore(redis, config.prefix, { durability, keyring: createKeyring(config.dataKeys) });
  const cas = createCaPool(config.cas, { store, logger, ariMinRetryMs: config.ariMinRetryMs });
  // Open the first CA's account now, so a misconfiguration shows at start-up; the others open on first use.
  await cas[0]?.account();

  const decisions = createDecisionService({
    chain: createPolicyChainFromConfig(config.policy, store),
    store: store.decisions,
    localMax: 10_000,
    evaluationTimeoutMs: evaluationTimeoutMs(config.policy),
    onEvaluated: (name, decision) => logger.info({ domain: name, ...decision }, 'policy decision'),
  });
  const retired = new Counter({
    name: 'certfleet_renewals_retired_total',
    help: 'Certificates not renewed but retired, by why: the name left the domain policy, or no edge served it for RENEW_IDLE_AFTER',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  // Jobs publish their outcomes; this role also delivers them (never an edge: not on a handshake's path).
  const webhooks = await openWebhooks({ connection: redis, store, config: config.webhooks, logger, deliver: { registry } });
  const orderingCas = metrics.countOrders(cas);
  // Read at scrape time from the indexes and the queue: served only when ISSUER_METRICS_PORT is set.
  const queue = createIssueQueue({ connection: redis, prefix: store.queuePrefix });
  registerIssuerFleetMetrics(
    registry,
    { reads: createMetricReads(redis, config.prefix), queue, priorities: PRIORITY, perHostnameMax: config.metricsPerHostnameMax },
    config.cas,
    store.budgetKeys,
  );
  const responder = config.challenge === 'tls-alpn-01' ? tlsAlpn01Responder(store) : http01Responder(store);
  const worker = createIssueWorker(
    { connection: redis, prefix: store.queuePrefix, concurrency: config.concurrency, lockMs: config.lockMs },
    (job, token) =>
      runIssueJob(job, token, {
        store,
        budgets: store.budgets,
        cas: orderingCas,
        decisions,
        responder,
        keyTypes: config.keyTypes,
        logger,
        clock: Date.now,
        random: Math.random,
        // WAIT covers every write before it on the master, the job's activation included.
        claimDurable: () => durability.afterWrite(),
        renewFraction: config.renewFraction,
        idleAfterMs: config.idleAfterMs,
        edgeTarget: config.policy.dns ? { cnameTarget: config.policy.dns.cnameTarget, ips: config.policy.dns.ips } : undefined,
        onRetired: (kind) => retired.inc({ kind }),
        ...(webhooks ? { events: webhooks.events } : {}),
      }),
  );
  worker.on('failed', (job, error) => {
    logger.warn({ domain: job?.data.name, jobId: job?.id, attempt: job?.attemptsMade, err: errorMessage(error) }, 'issuance failed');
    // A transient failure on the last attempt ends the job too (a final failure of an order was published by the job).
    if (job && webhooks && !(error instanceof UnrecoverableError) && job.attemptsMade >= (job.opts.attempts ?? 1)) {
      void webhooks.events.publish('certificate.failed', job.data.name, job.id);
    }
  });
  worker.on('error', (error) => logger.error({ err: errorMessage(error) }, 'issuer worker error'));
  await worker.waitUntilReady();
  const metricsServer =
    config.metricsPort === undefined ? undefined : await serveMetrics(registry, config.metricsPort, config.metricsBindAddress);
  const ariPoller = startAriPoller({ store, cas, tickMs: config.ariPollTickMs, logger, clock: Date.now });
  logger.info({ concurrency: config.concurrency }, 'issuer ready');

  return {
    async close() {
      await ariPoller.close();
      await worker.close();
      await webhooks?.close();
      await new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined)));
      await queue.close();
      redis.disconnect();
    },
  };
}
