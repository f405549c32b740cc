import type { SecureContext, TLSSocket } from 'node:tls';
import { checkHostname, type HostnameOptions } from '@certfleet/domain';
import { errorMessage, type Logger } from '@certfleet/observability';
import type { DecisionService } from '@certfleet/policy';
import type { IssuanceOutcome } from '@certfleet/queue';
import { blocksIssuance, type CertificateStore, type NameStateStore, type PauseStore } from '@certfleet/store';
import type { AlpnChallenges } from './alpn-challenges.js';
import type { SecureContextCache } from '@certfleet/tls';
import type { NewNameAdmission } from './admission.js';
import type { CertificateSource, EdgeMetrics } from './metrics.js';

/**
 * Asks the issuer pool for a certificate and waits at most `timeoutMs` (0: enqueue only); says
 * how the wait ended.
 */
export type IssueAndWait = (name: string, timeoutMs: number) => Promise<IssuanceOutcome | 'enqueued'>;

export interface CertificateResolverDeps {
  cache: SecureContextCache;
  certificates: CertificateStore;
  nameStates: NameStateStore;
  pauses: PauseStore;
  alpn: AlpnChallenges;
  decisions: DecisionService;
  admitNewName: NewNameAdmission;
  issueAndWait: IssueAndWait;
  /** How long a handshake for a new, allowed name waits for its certificate. */
  issueWaitMs: number;
  maxPendingIssues: number;
  maxWaitingHandshakes: number;
  hostnameOptions: HostnameOptions;
  metrics: EdgeMetrics;
  logger: Logger;
  /** Told the name of every handshake served a certificate; must not block (see served-names.ts). */
  onServed?: (name: string) => void;
}

type Resolved = { context: SecureContext; rsaContext?: SecureContext | undefined; source: CertificateSource } | null;

/**
 * The SNI callback: which certificate a handshake gets.
 * 1. An invalid or missing SNI gets the fallback (the server's default context), with no I/O.
 * 2. A name in memory is served from memory, with no I/O.
 * 3. Else one Redis read; a stored, unexpired certificate is cached and served.
 * 4. Else the domain policy's decision (in memory, in Redis, or evaluated once for the fleet,
 *    within the new-name limits); a name it allows gets one issuance job for the fleet, and the
 *    handshake waits up to `issueWaitMs` for it.
 * Over a limit, or on any failure, the fallback is served at once: a handshake never crashes
 * the edge and never waits without bound. Concurrent handshakes for one name share steps 3-4.
 */
export function createCertificateResolver(deps: CertificateResolverDeps) {
  const inflight = new Map<string, Promise<Resolved>>();
  let pendingIssues = 0;
  let waitingHandshakes = 0;

  const fromStore = (name: string) => deps.cache.get(name, () => deps.certificates.get(name));

  async function resolve(name: string, clientIp: string): Promise<Resolved> {
    const [stored, challenged] = await Promise.all([fromStore(name), deps.alpn.check(name)]);
    // A CA validating tls-alpn-01: the default context, then the ALPN callback answers.
    if (challenged) return null;
    if (stored) return { context: stored.context, rsaContext: stored.rsaContext, source: 'store' };
    let decision = await deps.decisions.lookup(name);
    if (!decision) {
      const limit = await deps.admitNewName(clientIp);
      if (limit) {
        deps.metrics.limited.inc({ limit });
        deps.logger.debug({ domain: name, clientIp, limit }, 'new-name limit reached; fallback');
        return null;
      }
      decision = await deps.decisions.evaluate(name);
    }
    if (!decision.allowed) return null;
    const [state, blocked] = await Promise.all([deps.nameStates.get(name), deps.pauses.issuanceBlocked()]);
    if (blocksIssuance(state, Date.now())) {
      deps.logger.debug({ domain: name, state: state?.state, coolUntil: state?.coolUntil }, 'name cooling down or failed; fallback');
      return null;
    }
    if (blocked && blocked.until > Date.now()) {
      // No CA can take an order now: the job waits for one, the visitor gets the fallback at once.
      await deps.issueAndWait(name, 0);
      deps.logger.info({ domain: name, until: new Date(blocked.until).toISOString() }, 'no CA can take an order now; enqueued, fallback at once');
      return null;
    }
    if (pendingIssues >= deps.maxPendingIssues) {
      deps.metrics.limited.inc({ limit: 'pending_issues' });
      return null;
    }
    pendingIssues += 1;
    let outcome: IssuanceOutcome | 'enqueued';
    try {
      outcome = await deps.issueAndWait(name, deps.issueWaitMs);
    } finally {
      pendingIssues -= 1;
    }
    if (outcome !== 'issued') {
      const message = {
        timeout: 'certificate not ready in time; fallback',
        delayed: 'no CA can take the order now; fallback at once',
        failed: 'issuance failed; fallback',
        enqueued: 'issuance enqueued; fallback at once',
      }[outcome];
      deps.logger.info({ domain: name, waitMs: deps.issueWaitMs }, message);
      return null;
    }
    const fresh = await fromStore(name);
    return fresh ? { context: fresh.context, rsaContext: fresh.rsaContext, source: 'issued' } : null;
  }

  function resolveShared(name: string, clientIp: string): Promise<Resolved> {
    const pending = inflight.get(name);
    if (pending) return pending;
    const promise = resolve(name, clientIp).finally(() => inflight.delete(name));
    inflight.set(name, promise);
    return promise;
  }

  // A function, not an arrow: Node calls the SNI callback with the TLS socket as `this`,
  // which is the only way to learn the client's address here.
  return function sniCallback(
    this: TLSSocket | undefined,
    servername: string,
    done: (error: Error | null, context?: SecureContext) => void,
  ): void {
    const fallback = () => {
      deps.metrics.certificates.inc({ source: 'fallback' });
      done(null);
    };
    // The hot path: a name already in memory was validated when it was cached, and only
    // normalised names are cached, so a lower-cased SNI that hits needs no further checking.
    const lower = servername.toLowerCase();
    if (!deps.alpn.isPending(lower)) {
      const hit = deps.cache.peek(lower);
      if (hit) {
        deps.metrics.certificates.inc({ source: 'memory' });
        deps.onServed?.(lower);
        if (hit.rsaContext) this?.setKeyCert(hit.rsaContext);
        return done(null, hit.context);
      }
    }
    const check = checkHostname(servername, deps.hostnameOptions);
    if (!check.ok) return fallback();
    if (deps.alpn.isPending(check.name)) return done(null);
    if (waitingHandshakes >= deps.maxWaitingHandshakes) {
      deps.metrics.limited.inc({ limit: 'waiting_handshakes' });
      return fallback();
    }
    waitingHandshakes += 1;
    const clientIp = (this?.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
    resolveShared(check.name, clientIp)
      .then(
        (resolved) => {
          if (!resolved) return fallback();
          deps.metrics.certificates.inc({ source: resolved.source });
          deps.onServed?.(check.name);
          if (resolved.rsaContext) this?.setKeyCert(resolved.rsaContext);
          done(null, resolved.context);
        },
        (error: unknown) => {
          deps.logger.warn({ domain: check.name, err: errorMessage(error) }, 'certificate lookup failed; fallback');
          fallback();
        },
      )
      .finally(() => {
        waitingHandshakes -= 1;
      });
  };
}
