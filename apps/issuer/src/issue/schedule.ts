import { pickRenewalTime } from '@certfleet/acme';
import { errorMessage, type Logger } from '@certfleet/observability';
import { renewalTime } from '@certfleet/renewal';
import type { IssueJobDeps, OrderingAccount } from './deps.js';

/** A renewal window that could not be read at issuance is asked for again after this. */
export const ARI_RETRY_AFTER_FAILURE_MS = 15 * 60_000;

export interface Lifetime {
  notBefore: number;
  notAfter: number;
}

/**
 * Asks the CA for the new certificate's renewal window (ARI) without waiting for it: this runs
 * after the certificate is stored, off the path of the visitor who waits for it; until the
 * window is known our own renewal point stands. A failed ask is left to the ARI poller.
 */
export function scheduleByAriInBackground(
  account: OrderingAccount,
  ariId: string,
  name: string,
  lifetime: Lifetime,
  issuedAt: number,
  deps: Pick<IssueJobDeps, 'store' | 'logger' | 'renewFraction' | 'random'>,
  log: Logger,
): void {
  void scheduleByAri(account, ariId, name, lifetime, issuedAt, deps).catch(async (error: unknown) => {
    // Asked again by the ARI poller, as after any failed poll.
    await deps.store.renewals.scheduleAriPoll(name, issuedAt + ARI_RETRY_AFTER_FAILURE_MS).catch(() => undefined);
    log.warn({ err: errorMessage(error) }, 'ARI renewal window unavailable; our own renewal point stands until it is asked again');
  });
}

/** Moves the certificate's renewal into the CA's suggested window, and asks again when the CA says to. */
export async function scheduleByAri(
  account: OrderingAccount,
  ariId: string,
  name: string,
  lifetime: Lifetime,
  issuedAt: number,
  deps: Pick<IssueJobDeps, 'store' | 'logger' | 'renewFraction' | 'random'>,
): Promise<void> {
  const window = await account.renewalInfo(ariId);
  const log = deps.logger.child({ domain: name });
  if (!window) {
    log.info({ renewAt: new Date(renewalTime({ name, ...lifetime }, deps.renewFraction)).toISOString(), ari: null }, 'renewal scheduled');
    return;
  }
  const renewAt = pickRenewalTime(window, lifetime, issuedAt, deps.random);
  await deps.store.certificates.reschedule(name, renewAt);
  // RFC 9773 4.3: ask again as Retry-After says; the window may move (e.g. after a revocation).
  await deps.store.renewals.scheduleAriPoll(name, issuedAt + window.retryAfterMs);
  log.info(
    {
      renewAt: new Date(renewAt).toISOString(),
      ari: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() },
      nextPollAt: new Date(issuedAt + window.retryAfterMs).toISOString(),
    },
    'renewal scheduled',
  );
}
