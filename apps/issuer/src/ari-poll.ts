import { pickRenewalTime, type RenewalWindow } from '@certfleet/acme';
import type { CertificateStore, RenewalIndex, StoredCertificate } from '@certfleet/store';

/** A failed renewalInfo request is tried again after this (RFC 9773 4.3.3 asks clients to back off). */
const FAILED_POLL_RETRY_MS = 15 * 60_000;

export interface AriPollTickOptions {
  renewals: Pick<RenewalIndex, 'dueAriPolls' | 'scheduleAriPoll' | 'dropAriPoll'>;
  certificates: Pick<CertificateStore, 'get' | 'reschedule'>;
  /** The CA's current window for a stored certificate (its `ariId` at its `ca`), or null when that CA has no ARI. */
  windowFor: (cert: StoredCertificate) => Promise<RenewalWindow | null>;
  now: number;
  /** Most certificates looked at by this tick; the rest wait for the next. */
  batch: number;
  random?: () => number;
}

export interface AriPollOutcome {
  name: string;
  /** `moved`: the window moved and the renewal with it; `kept`: the scheduled time still fits; `dropped`: nothing to poll any more. */
  outcome: 'moved' | 'kept' | 'dropped' | 'failed';
  renewAt?: number;
  window?: { start: number; end: number };
  nextPollAt?: number;
}

/**
 * Asks the CA again for the renewal window of each certificate whose Retry-After has passed
 * (RFC 9773 4.3), reading only the due slice of the poll index. A renewal time that no longer
 * lies inside the window (the CA asks for early renewal, e.g. after a revocation) is picked
 * again inside the new window; one that still fits is kept, so a steady window does not make
 * the renewal wander. The next poll is set by the answer's Retry-After (clamped to 1 minute ..
 * 1 day). Certificates that are gone, retired or carry no ARI id leave the poll index.
 */
export async function runAriPollTick(options: AriPollTickOptions): Promise<AriPollOutcome[]> {
  const { renewals, certificates, now } = options;
  const due = await renewals.dueAriPolls(now, options.batch);
  const outcomes: AriPollOutcome[] = [];
  for (const name of due) {
    const cert = await certificates.get(name);
    if (!cert?.ariId || cert.retiredAt !== undefined || cert.notAfter <= now) {
      await renewals.dropAriPoll(name);
      outcomes.push({ name, outcome: 'dropped' });
      continue;
    }
    let window: RenewalWindow | null;
    try {
      window = await options.windowFor(cert);
    } catch {
      await renewals.scheduleAriPoll(name, now + FAILED_POLL_RETRY_MS);
      outcomes.push({ name, outcome: 'failed', nextPollAt: now + FAILED_POLL_RETRY_MS });
      continue;
    }
    if (!window) {
      await renewals.dropAriPoll(name);
      outcomes.push({ name, outcome: 'dropped' });
      continue;
    }
    const nextPollAt = now + window.retryAfterMs;
    const current = cert.renewAt;
    const fits = current !== undefined && current >= window.start && current <= window.end;
    const span = { start: window.start, end: window.end };
    if (fits) {
      outcomes.push({ name, outcome: 'kept', renewAt: current, window: span, nextPollAt });
    } else {
      const renewAt = pickRenewalTime(window, cert, now, options.random);
      await certificates.reschedule(name, renewAt);
      outcomes.push({ name, outcome: 'moved', renewAt, window: span, nextPollAt });
    }
    await renewals.scheduleAriPoll(name, nextPollAt);
  }
  return outcomes;
}
