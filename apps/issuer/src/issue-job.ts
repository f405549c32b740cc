import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from '@certfleet/observability';
import type { IssueJobData, IssueJobResult, IssueReason } from '@certfleet/queue';
import type { NameState, StoredCertificate } from '@certfleet/store';
import { ariReplaces, caPausedForMs, takeOrderBudget } from './issue/ca-choice.js';
import { alreadyValid, readIssueJob, refuseBlockedName } from './issue/check.js';
import { delayUntilACaCanOrder } from './issue/delay.js';
import type { IssueJobDeps, IssuingCa } from './issue/deps.js';
import { handleOrderFailure } from './issue/failure.js';
import { issueAll } from './issue/order.js';
import { checkPolicy, retireCertificate } from './issue/retirement.js';
import { storeCertificate } from './issue/store-certificate.js';

export type { IssueJobDeps } from './issue/deps.js';

/** What the job knows before it tries a CA. */
interface Issuance {
  /** The issuance job: the key of its `certificate.failed` event, the same at each of its attempts. */
  jobId: string | undefined;
  name: string;
  reason: IssueReason;
  existing: StoredCertificate | null;
  state: NameState | null;
  startedAt: number;
}

/** One CA's answer: the job's result, or how long until this CA could take the order. */
type CaAttempt = { result: IssueJobResult } | { waitMs: number };

/**
 * Runs one issuance job. Idempotent: a name with a certificate that is not due is answered from
 * the store. The name's state and the domain policy are checked again here, so a job that
 * reached the queue by any path cannot order for a name that is cooling down, failed, or not
 * allowed. CAs are tried in order; a CA is skipped while paused (429, outage) or out of budget.
 * When no CA can take the order now, the job waits (delayed, not failed) until the soonest one
 * can, and edges are told to serve a visitor the fallback at once meanwhile.
 */
export async function runIssueJob(
  job: Pick<Job<IssueJobData, IssueJobResult>, 'id' | 'data' | 'moveToDelayed'>,
  token: string | undefined,
  deps: IssueJobDeps,
): Promise<IssueJobResult> {
  const { name, reason } = readIssueJob(job);
  const log = deps.logger.child({ domain: name, jobId: job.id, reason });
  const now = deps.clock();
  const existing = await deps.store.certificates.get(name);
  const valid = alreadyValid(existing, reason, now, deps.renewFraction);
  if (valid) {
    log.info({ serial: valid.serial }, 'certificate already valid; no order');
    return valid;
  }
  const state = await deps.store.nameStates.get(name);
  refuseBlockedName(name, state, now);
  const retirement = await checkPolicy(name, reason, existing, now, deps);
  if (retirement && existing) {
    const retired = await retireCertificate(name, existing, retirement, now, deps, log);
    await deps.events?.publish('certificate.retired', name, existing.serial);
    return retired;
  }

  const issuance: Issuance = { jobId: job.id, name, reason, existing, state, startedAt: now };
  const waits: number[] = [];
  for (const ca of deps.cas) {
    const attempt = await tryCa(ca, issuance, deps, log);
    if ('result' in attempt) return attempt.result;
    waits.push(attempt.waitMs);
  }
  return delayUntilACaCanOrder(job, token, waits, reason, deps, log);
}

/** Orders at one CA unless it is paused or out of budget; a failure that lets the next CA try returns a wait. */
async function tryCa(ca: IssuingCa, issuance: Issuance, deps: IssueJobDeps, log: Logger): Promise<CaAttempt> {
  const { name, reason, existing } = issuance;
  const caName = ca.config.name;
  const pausedMs = await caPausedForMs(caName, deps);
  if (pausedMs !== undefined) return { waitMs: pausedMs };
  const replaces = await ariReplaces(ca, reason, existing);
  const budget = await takeOrderBudget(ca, { name, reason, replaces }, deps, log);
  if (!budget.granted) return { waitMs: budget.retryAfterMs };
  await deps.store.nameStates.markIssuing(name, caName, deps.clock());
  await deps.claimDurable?.();
  try {
    log.info({ ca: caName, replaces }, 'issuance started');
    const account = await ca.account();
    const issued = await issueAll(account, name, { replaces, profile: ca.config.profile }, deps);
    const { main, issuedAt } = await storeCertificate(issued, { name, caName, account }, deps, log);
    log.info(
      {
        ca: caName,
        serial: main.serial,
        notAfter: new Date(main.notAfter).toISOString(),
        keyTypes: deps.keyTypes,
        ms: issuedAt - issuance.startedAt,
      },
      existing ? 'certificate renewed' : 'certificate issued',
    );
    await deps.events?.publish(existing ? 'certificate.renewed' : 'certificate.issued', name, main.serial);
    return { result: { outcome: 'issued', serial: main.serial, notAfter: main.notAfter } };
  } catch (error) {
    return { waitMs: await failOrder(error, ca, issuance, deps, log) };
  }
}

/**
 * Acts on a failed order (`handleOrderFailure`); a failure that ends the job for good (the CA
 * could not validate the name, or refuses it) is published as `certificate.failed`, after the
 * name's state holds the error the event's validation_errors show.
 */
async function failOrder(error: unknown, ca: IssuingCa, issuance: Issuance, deps: IssueJobDeps, log: Logger): Promise<number> {
  try {
    return await handleOrderFailure(error, { name: issuance.name, ca, state: issuance.state }, deps, log);
  } catch (final) {
    if (final instanceof UnrecoverableError) await deps.events?.publish('certificate.failed', issuance.name, issuance.jobId);
    throw final;
  }
}
