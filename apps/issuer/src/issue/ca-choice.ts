import type { Logger } from '@certfleet/observability';
import type { IssueReason } from '@certfleet/queue';
import type { StoredCertificate } from '@certfleet/store';
import { orderClaims } from '../ca-pool.js';
import { budgetLabel } from './customer-detail.js';
import type { IssueJobDeps, IssuingCa } from './deps.js';

/** How long the CA stays paused for the whole fleet (after a 429 or an outage); undefined when it is not. */
export async function caPausedForMs(caName: string, deps: Pick<IssueJobDeps, 'store' | 'clock'>): Promise<number | undefined> {
  const pause = await deps.store.pauses.caPause(caName);
  const now = deps.clock();
  return pause && pause.until > now ? pause.until - now : undefined;
}

/**
 * The certificate a renewal replaces at this CA, sent as `replaces`. RFC 9773: a renewal that
 * names the certificate it replaces, at the CA that issued it, is exempt from the CA's limits.
 */
export async function ariReplaces(ca: IssuingCa, reason: IssueReason, existing: StoredCertificate | null): Promise<string | undefined> {
  if (reason !== 'renewal' || !existing?.ariId || existing.ca !== ca.config.name) return undefined;
  return (await supportsAri(ca)) ? existing.ariId : undefined;
}

async function supportsAri(ca: IssuingCa): Promise<boolean> {
  return (await ca.account()).supportsAri().catch(() => false);
}

export type BudgetAnswer = { granted: true } | { granted: false; retryAfterMs: number };

/**
 * Takes what one order for the name draws on the CA's budgets (one token a key type), all or
 * none. An ARI-exempt renewal (`replaces` set) draws on none.
 */
export async function takeOrderBudget(
  ca: IssuingCa,
  order: { name: string; reason: IssueReason; replaces: string | undefined },
  deps: Pick<IssueJobDeps, 'store' | 'budgets' | 'keyTypes' | 'clock'>,
  log: Logger,
): Promise<BudgetAnswer> {
  if (order.replaces) return { granted: true };
  const claims = orderClaims(ca.config, deps.store, [order.name], order.reason);
  const budget = await deps.budgets.takeAll(claims, deps.keyTypes.length);
  if (budget.granted) return { granted: true };
  log.info({ ca: ca.config.name, retryAfterMs: budget.retryAfterMs, bucket: budget.refusedBy?.key }, 'CA budget spent; trying the next CA');
  // Said where the customer and the operator look (the hostname object, domains status), not only in this log.
  const now = deps.clock();
  const budgetName = budget.refusedBy ? budgetLabel(budget.refusedBy.key) : `${ca.config.name}: orders`;
  await deps.store.issueRecords.hold(order.name, { budget: budgetName, until: now + budget.retryAfterMs, at: now });
  return { granted: false, retryAfterMs: budget.retryAfterMs };
}
