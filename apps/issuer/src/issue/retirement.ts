import type { Logger } from '@certfleet/observability';
import type { IssueJobResult, IssueReason } from '@certfleet/queue';
import type { RetirementKind, StoredCertificate } from '@certfleet/store';
import type { IssueJobDeps } from './deps.js';
import { unrecoverable } from './errors.js';

/** Why a certificate is not renewed but kept until it expires. */
export interface Retirement {
  kind: RetirementKind;
  reason: string;
}

/**
 * Asks the domain policy about the name. A renewal asks afresh (a customer who left must not
 * be renewed on a cached allow) and, when refused, retires the certificate; any other job for
 * a name not allowed fails for good. A renewal of a name no edge served for the idle period is
 * retired too. Undefined when the order may go ahead.
 */
export async function checkPolicy(
  name: string,
  reason: IssueReason,
  existing: StoredCertificate | null,
  now: number,
  deps: Pick<IssueJobDeps, 'decisions' | 'store' | 'idleAfterMs'>,
): Promise<Retirement | undefined> {
  const renewal = reason === 'renewal';
  const decision = renewal ? await deps.decisions.evaluate(name) : await deps.decisions.decide(name);
  if (!decision.allowed) {
    if (renewal && existing) return { kind: 'left-policy', reason: `no longer allowed (${decision.policy}: ${decision.reason})` };
    throw unrecoverable(`${name} is not allowed (${decision.policy}: ${decision.reason}); no order made`);
  }
  return renewal && existing ? idleRetirement(name, now, deps) : undefined;
}

/**
 * A customer who left without telling us: no edge has served the name for the idle period.
 * Tracking starts at the first issuance (CertificateStore.save records it); a certificate
 * stored before names were tracked has no record and is renewed, which starts its tracking.
 */
async function idleRetirement(
  name: string,
  now: number,
  deps: Pick<IssueJobDeps, 'store' | 'idleAfterMs'>,
): Promise<Retirement | undefined> {
  const lastServed = await deps.store.served.lastServed(name);
  if (lastServed === null || now - lastServed < deps.idleAfterMs) return undefined;
  return { kind: 'idle', reason: `idle (not served since ${new Date(lastServed).toISOString()})` };
}

/** Stops renewing the name: the certificate is served until it expires, then removed. */
export async function retireCertificate(
  name: string,
  existing: StoredCertificate,
  retirement: Retirement,
  now: number,
  deps: Pick<IssueJobDeps, 'store' | 'onRetired'>,
  log: Logger,
): Promise<IssueJobResult> {
  await deps.store.certificates.retire(name, retirement.kind, retirement.reason, now);
  deps.onRetired?.(retirement.kind);
  log.info(
    { serial: existing.serial, reason: retirement.reason, kind: retirement.kind },
    'certificate retired: not renewed, kept until it expires',
  );
  return { outcome: 'retired', serial: existing.serial, notAfter: existing.notAfter };
}
