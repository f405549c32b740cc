import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  ariCertificateId,
  classifyAcmeFailure,
  pickRenewalTime,
  type AcmeAccount,
  type ChallengeResponder,
  type IssuedCertificate,
  type KeyType,
} from '@certfleet/acme';
import { checkHostname } from '@certfleet/domain';
import type { Logger } from '@certfleet/observability';
import type { DecisionService } from '@certfleet/policy';
import { IssueJobData, type IssueJobResult } from '@certfleet/queue';
import { renewalTime } from '@certfleet/renewal';
import type { RetirementKind, Store } from '@certfleet/store';
import { failedAuthzClaim, orderClaims, type CaHandle } from './ca-pool.js';

export interface IssueJobDeps {
  store: Store;
  cas: readonly CaHandle[];
  decisions: DecisionService;
  responder: ChallengeResponder;
  keyTypes: readonly KeyType[];
  logger: Logger;
  clock: () => number;
  /** Renew when this fraction of the lifetime remains. */
  renewFraction: number;
  /** A name no edge has served for this long is not renewed (retired as idle). */
  idleAfterMs: number;
  /** Told of each certificate retired at renewal (counted in the issuer's metrics). */
  onRetired?: (kind: RetirementKind) => void;
}

/** A name's first failed validation cools it down this long; each failure in a row doubles it. */
const FIRST_COOL_DOWN_MS = 60_000;
const MAX_COOL_DOWN_MS = 24 * 3_600_000;
/** A CA that 429ed without Retry-After, or is unreachable, is left alone this long. */
const DEFAULT_RATE_LIMIT_PAUSE_MS = 60_000;
const DEFAULT_UNAVAILABLE_PAUSE_MS = 10_000;
/** A renewal window that could not be read at issuance is asked for again after this. */
const ARI_RETRY_AFTER_FAILURE_MS = 15 * 60_000;

const jitter = (ms: number) => Math.round(ms * (0.9 + Math.random() * 0.2));
/**
 * A renewal refused by a budget waits for a token plus a random share of this, so that a
 * backlog of hundreds of delayed renewals does not wake up together for each token (one wins,
 * the rest go back to sleep): the backlog still drains at the bucket's pace.
 */
const RENEWAL_SPREAD_MS = 30_000;

/**
 * Runs one issuance job. Idempotent: a name with a certificate that is not due is answered from
 * the store. The name's state and the domain policy are checked again here, so a job that
 * reached the queue by any path cannot order for a name that is cooling down, failed, or not
 * allowed. CAs are tried in order; a CA is skipped while paused (429, outage) or out of budget.
 * When no CA can take the order now, the job waits (delayed, not failed) until the soonest one
 * can, and edges are told to serve a visitor the fallback at once meanwhile.
 */
export async function runIssueJob(
  job: Job<IssueJobData, IssueJobResult>,
  token: string | undefined,
  deps: IssueJobDeps,
): Promise<IssueJobResult> {
  const data = IssueJobData.parse(job.data);
  const name = data.name;
  const check = checkHostname(name);
  if (!check.ok || check.name !== name) {
    throw new UnrecoverableError(
      `job ${job.id} names "${name}", which is not a valid host name: ${check.ok ? 'not normalised' : check.reason}`,
    );
  }
  const log = deps.logger.child({ domain: name, jobId: job.id, reason: data.reason });
  const now = deps.clock();
  const existing = await deps.store.certificates.get(name);
  // Due as scheduled at issuance (an ARI window, or our own point for certificates stored before).
  const dueAt = existing ? (existing.renewAt ?? renewalTime(existing, deps.renewFraction)) : 0;
  if (existing && existing.notAfter > now && (data.reason !== 'renewal' || dueAt > now)) {
    log.info({ serial: existing.serial }, 'certificate already valid; no order');
    return { outcome: 'already-valid', serial: existing.serial, notAfter: existing.notAfter };
  }
  const state = await deps.store.nameStates.get(name);
  if (state?.state === 'failed') {
    throw new UnrecoverableError(`${name} failed permanently (${state.lastError}); run 'certfleet domains retry ${name}' once fixed`);
  }
  if (state?.state === 'cooling' && (state.coolUntil ?? 0) > now) {
    throw new UnrecoverableError(`${name} is cooling down after a failed validation until ${new Date(state.coolUntil ?? 0).toISOString()}`);
  }
  // A renewal asks the policy afresh: a customer who left must not be renewed on a cached allow.
  const decision = data.reason === 'renewal' ? await deps.decisions.evaluate(name) : await deps.decisions.decide(name);
  if (!decision.allowed) {
    if (data.reason === 'renewal' && existing) {
      const reason = `no longer allowed (${decision.policy}: ${decision.reason})`;
      await deps.store.certificates.retire(name, 'left-policy', reason, now);
      deps.onRetired?.('left-policy');
      log.info({ serial: existing.serial, reason, kind: 'left-policy' }, 'certificate retired: not renewed, kept until it expires');
      return { outcome: 'retired', serial: existing.serial, notAfter: existing.notAfter };
    }
    throw new UnrecoverableError(`${name} is not allowed (${decision.policy}: ${decision.reason}); no order made`);
  }
  // A customer who left without telling us: no edge has served the name for the idle period.
  // Tracking starts at the first issuance (CertificateStore.save records it); a certificate
  // stored before names were tracked has no record and is renewed, which starts its tracking.
  if (data.reason === 'renewal' && existing) {
    const lastServed = await deps.store.served.lastServed(name);
    if (lastServed !== null && now - lastServed >= deps.idleAfterMs) {
      const reason = `idle (not served since ${new Date(lastServed).toISOString()})`;
      await deps.store.certificates.retire(name, 'idle', reason, now);
      deps.onRetired?.('idle');
      log.info({ serial: existing.serial, reason, kind: 'idle' }, 'certificate retired: not renewed, kept until it expires');
      return { outcome: 'retired', serial: existing.serial, notAfter: existing.notAfter };
    }
  }

  const waits: number[] = [];
  for (const ca of deps.cas) {
    const caName = ca.config.name;
    const pause = await deps.store.pauses.caPause(caName);
    if (pause && pause.until > deps.clock()) {
      waits.push(pause.until - deps.clock());
      continue;
    }
    // RFC 9773: a renewal that names the certificate it replaces, at the CA that issued it, is
    // exempt from the CA's limits; it draws on no budget.
    const replaces =
      data.reason === 'renewal' && existing?.ariId && existing.ca === caName && (await supportsAri(ca)) ? existing.ariId : undefined;
    const claims = replaces ? [] : orderClaims(ca.config, deps.store, [name], data.reason);
    const budget = await deps.store.budgets.takeAll(claims, deps.keyTypes.length);
    if (!budget.granted) {
      log.info({ ca: caName, retryAfterMs: budget.retryAfterMs, bucket: budget.refusedBy?.key }, 'CA budget spent; trying the next CA');
      waits.push(budget.retryAfterMs);
      continue;
    }
    await deps.store.nameStates.markIssuing(name, caName, deps.clock());
    try {
      log.info({ ca: caName, replaces }, 'issuance started');
      const account = await ca.account();
      const issued = await issueAll(account, name, deps, { replaces, profile: ca.config.profile });
      const issuedAt = deps.clock();
      const [main, rsa] = issued;
      if (!main) throw new Error('no certificate was issued');
      const ariId = safely(() => ariCertificateId(main.chainPem));
      const lifetime = { notBefore: main.notBefore, notAfter: Math.min(main.notAfter, rsa?.notAfter ?? Number.POSITIVE_INFINITY) };
      await deps.store.certificates.save(
        {
          ...main,
          name,
          issuedAt,
          ca: caName,
          ariId,
          rsa: rsa ? { chainPem: rsa.chainPem, keyPem: rsa.keyPem, serial: rsa.serial, notAfter: rsa.notAfter } : undefined,
        },
        renewalTime({ name, ...lifetime }, deps.renewFraction),
      );
      // The CA's renewal window (ARI) is asked for after the certificate is stored, off the path
      // of the visitor who waits for it; until then our own renewal point stands.
      if (ariId) {
        void scheduleByAri(account, ariId, name, lifetime, issuedAt, deps).catch(async (error: unknown) => {
          // Asked again by the ARI poller, as after any failed poll.
          await deps.store.renewals.scheduleAriPoll(name, issuedAt + ARI_RETRY_AFTER_FAILURE_MS).catch(() => undefined);
          log.warn(
            { err: (error as Error).message },
            'ARI renewal window unavailable; our own renewal point stands until it is asked again',
          );
        });
      }
      await deps.store.nameStates.markActive(name, caName, issuedAt);
      log.info(
        { ca: caName, serial: main.serial, notAfter: new Date(main.notAfter).toISOString(), keyTypes: deps.keyTypes, ms: issuedAt - now },
        existing ? 'certificate renewed' : 'certificate issued',
      );
      return { outcome: 'issued', serial: main.serial, notAfter: main.notAfter };
    } catch (error) {
      const failure = classifyAcmeFailure(error);
      const at = deps.clock();
      log.warn({ ca: caName, kind: failure.kind, retryAfterMs: failure.retryAfterMs, err: failure.message }, 'order failed');
      switch (failure.kind) {
        case 'rate-limited':
        case 'unavailable': {
          const pauseMs =
            failure.retryAfterMs ?? (failure.kind === 'rate-limited' ? DEFAULT_RATE_LIMIT_PAUSE_MS : DEFAULT_UNAVAILABLE_PAUSE_MS);
          await deps.store.pauses.pauseCa(caName, { until: at + pauseMs, reason: failure.message }, at);
          await deps.store.nameStates.noteError(name, failure.message, at);
          waits.push(pauseMs);
          continue;
        }
        case 'validation': {
          const failures = (state?.failures ?? 0) + 1;
          let coolMs = Math.min(MAX_COOL_DOWN_MS, FIRST_COOL_DOWN_MS * 2 ** (failures - 1));
          const authz = await deps.store.budgets.takeAll([failedAuthzClaim(ca.config, deps.store, name)]);
          if (!authz.granted) coolMs = Math.max(coolMs, authz.retryAfterMs);
          await deps.store.nameStates.markCooling(name, failure.message, at + coolMs, at);
          throw new UnrecoverableError(`validation of ${name} failed; cooling down for ${Math.round(coolMs / 1000)} s: ${failure.message}`);
        }
        case 'permanent':
          await deps.store.nameStates.markFailed(name, failure.message, at);
          throw new UnrecoverableError(`the CA refuses ${name}: ${failure.message}`);
        case 'transient':
          await deps.store.nameStates.noteError(name, failure.message, at);
          throw error;
      }
    }
  }

  const delayMs =
    jitter(Math.max(1_000, Math.min(...waits))) + (data.reason === 'renewal' ? Math.round(Math.random() * RENEWAL_SPREAD_MS) : 0);
  const until = deps.clock() + delayMs;
  if (data.reason === 'visitor') {
    await deps.store.pauses.blockIssuance({ until, reason: 'no CA can take an order now' }, deps.clock());
  }
  log.info({ delayMs }, 'no CA can take the order now; job delayed');
  await job.moveToDelayed(until, token);
  throw new DelayedError();
}

/** One certificate per key type (ECDSA first), each its own order. */
async function issueAll(
  account: AcmeAccount,
  name: string,
  deps: IssueJobDeps,
  order: { replaces: string | undefined; profile: string | undefined },
): Promise<IssuedCertificate[]> {
  const issued: IssuedCertificate[] = [];
  for (const keyType of deps.keyTypes) {
    // Only the first (ECDSA) certificate has an ARI id on record.
    issued.push(
      await account.issue([name], deps.responder, keyType, {
        replaces: issued.length === 0 ? order.replaces : undefined,
        profile: order.profile,
      }),
    );
  }
  return issued;
}

async function scheduleByAri(
  account: AcmeAccount,
  ariId: string,
  name: string,
  lifetime: { notBefore: number; notAfter: number },
  issuedAt: number,
  deps: IssueJobDeps,
): Promise<void> {
  const window = await account.renewalInfo(ariId);
  const log = deps.logger.child({ domain: name });
  if (!window) {
    log.info({ renewAt: new Date(renewalTime({ name, ...lifetime }, deps.renewFraction)).toISOString(), ari: null }, 'renewal scheduled');
    return;
  }
  const renewAt = pickRenewalTime(window, lifetime, issuedAt);
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

async function supportsAri(ca: CaHandle): Promise<boolean> {
  return (await ca.account()).supportsAri().catch(() => false);
}

function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
