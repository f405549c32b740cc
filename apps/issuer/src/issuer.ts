import { AcmeAccount, configureAcmeHttp, createAccountKey } from '@certfleet/acme';
import type { IssuerConfig } from '@certfleet/config';
import { errorMessage, type Logger } from '@certfleet/observability';
import { createDecisionService, createPolicyChainFromConfig, evaluationTimeoutMs } from '@certfleet/policy';
import { createIssueWorker } from '@certfleet/queue';
import { connectRedis, createStore } from '@certfleet/store';
import { runIssueJob } from './issue-job.js';

export interface RunningRole {
  /** Stops taking work, lets running work finish, and closes connections. */
  close(): Promise<void>;
}

/**
 * The issuer: a BullMQ worker that runs the ACME flow for issuance jobs. Any number may run;
 * they share one ACME account, created by whichever starts first.
 */
export async function startIssuer(config: IssuerConfig, logger: Logger): Promise<RunningRole> {
  configureAcmeHttp({ caBundlePem: config.acmeCaBundlePem });
  const redis = connectRedis(config.redisUrl, { forBullmq: true, connectionName: 'certfleet-issuer' });
  const store = createStore(redis, config.prefix);
  const record = await store.secrets.account(config.acmeDirectoryUrl, createAccountKey);
  const account = await AcmeAccount.open({
    directoryUrl: config.acmeDirectoryUrl,
    accountKeyPem: record.keyPem,
    accountUrl: record.url,
    email: config.acmeEmail,
  });
  if (!record.url) await store.secrets.setAccountUrl(config.acmeDirectoryUrl, account.accountUrl);
  logger.info({ directory: config.acmeDirectoryUrl, account: account.accountUrl }, 'ACME account ready');

  const decisions = createDecisionService({
    chain: createPolicyChainFromConfig(config.policy, store),
    store: store.decisions,
    localMax: 10_000,
    evaluationTimeoutMs: evaluationTimeoutMs(config.policy),
    onEvaluated: (name, decision) => logger.info({ domain: name, ...decision }, 'policy decision'),
  });
  const worker = createIssueWorker(
    { connection: redis, prefix: store.keys.queuePrefix, concurrency: config.concurrency },
    (job) => runIssueJob(job, { store, account, decisions, logger, clock: Date.now, renewFraction: config.renewFraction }),
  );
  worker.on('failed', (job, error) => {
    logger.warn({ domain: job?.data.name, jobId: job?.id, attempt: job?.attemptsMade, err: errorMessage(error) }, 'issuance failed');
  });
  worker.on('error', (error) => logger.error({ err: errorMessage(error) }, 'issuer worker error'));
  await worker.waitUntilReady();
  logger.info({ concurrency: config.concurrency }, 'issuer ready');

  return {
    async close() {
      await worker.close();
      redis.disconnect();
    },
  };
}
