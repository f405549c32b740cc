import { UnrecoverableError, type Job } from 'bullmq';
import type { AcmeAccount, Http01Responder } from '@certfleet/acme';
import type { Logger } from '@certfleet/observability';
import type { DecisionService } from '@certfleet/policy';
import { IssueJobData, type IssueJobResult } from '@certfleet/queue';
import { renewalTime } from '@certfleet/renewal';
import type { Store } from '@certfleet/store';
import { checkHostname } from '@certfleet/domain';

export interface IssueJobDeps {
  store: Store;
  account: AcmeAccount;
  decisions: DecisionService;
  logger: Logger;
  clock: () => number;
  /** Renew when this fraction of the lifetime remains. */
  renewFraction: number;
  /** How long a challenge answer stays in Redis: longer than any validation takes. */
  challengeTtlMs?: number;
}

/**
 * Runs one issuance job. Idempotent: a name that already has a certificate that is not due is
 * answered from the store without an order, so a duplicate job, a retry after a crash or a
 * late renewal never orders twice. The policy is asked again here, so a job that reached the
 * queue by any path cannot order a certificate for a name that is not allowed.
 */
export async function runIssueJob(job: Job<IssueJobData, IssueJobResult>, deps: IssueJobDeps): Promise<IssueJobResult> {
  const data = IssueJobData.parse(job.data);
  const check = checkHostname(data.name);
  if (!check.ok || check.name !== data.name) {
    throw new UnrecoverableError(`job ${job.id} names "${data.name}", which is not a valid host name: ${check.ok ? 'not normalised' : check.reason}`);
  }
  const log = deps.logger.child({ domain: data.name, jobId: job.id, reason: data.reason });
  const now = deps.clock();
  const existing = await deps.store.certificates.get(data.name);
  if (existing && existing.notAfter > now) {
    const renewAt = renewalTime(existing, deps.renewFraction);
    if (data.reason !== 'renewal' || renewAt > now) {
      log.info({ serial: existing.serial }, 'certificate already valid; no order');
      return { outcome: 'already-valid', serial: existing.serial, notAfter: existing.notAfter };
    }
  }
  const decision = await deps.decisions.decide(data.name);
  if (!decision.allowed) {
    throw new UnrecoverableError(`${data.name} is not allowed (${decision.policy}: ${decision.reason}); no order made`);
  }
  const started = deps.clock();
  const issued = await deps.account.issue([data.name], http01Responder(deps.store, deps.challengeTtlMs ?? 600_000));
  const issuedAt = deps.clock();
  await deps.store.certificates.save({ ...issued, name: data.name, issuedAt }, renewalTime(issued, deps.renewFraction));
  log.info(
    { serial: issued.serial, notAfter: new Date(issued.notAfter).toISOString(), ms: issuedAt - started },
    existing ? 'certificate renewed' : 'certificate issued',
  );
  return { outcome: 'issued', serial: issued.serial, notAfter: issued.notAfter };
}

function http01Responder(store: Store, ttlMs: number): Http01Responder {
  return {
    present: (token, keyAuthorization) => store.challenges.put(token, keyAuthorization, ttlMs),
    remove: (token) => store.challenges.remove(token),
  };
}
