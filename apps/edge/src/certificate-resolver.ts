import type { SecureContext, TLSSocket } from 'node:tls';
import { checkHostname, type HostnameOptions } from '@certfleet/domain';
import { errorMessage, type Logger } from '@certfleet/observability';
import type { DecisionService } from '@certfleet/policy';
import type { IssuanceOutcome } from '@certfleet/queue';
import { createSingleflight } from '@certfleet/singleflight';
import { blocksIssuance, type CertificateStore, type NameStateStore, type PauseStore } from '@certfleet/store';
import type { AlpnChallenges } from './alpn-challenges.js';
import type { CachedContext, LoadedPem, SecureContextCache } from '@certfleet/tls';
import type { NewNameAdmission } from './admission.js';
import { clientKey } from './client-key.js';
import { contextFor } from './key-type-choice.js';
import { noteRealCertificate } from './served-certificate.js';
import type { CertificateSource, EdgeMetrics, LimitName } from './metrics.js';
import { RefusedNames } from './refused-names.js';

/**
 * Names whose refusal one process remembers: enough for a scanner's repeated list, small enough
 * to ignore (10,000 names of 63 characters measured 3.3 MB of heap on Node 20).
 */
const MAX_REFUSED_NAMES = 10_000;

/**
 * Asks the issuer pool for a certificate and waits at most `timeoutMs` (0: enqueue only); says
 * how the wait ended.
 */
export type IssueAndWait = (name: string, timeoutMs: number) => Promise<IssuanceOutcome | 'enqueued'>;

export interface CertificateResolverDeps {
  cache: SecureContextCache;
  /**
   * This edge's local store (what any of its processes served, kept across restarts): read on a
   * miss in memory, before any limit or Redis read. Synchronous, no network I/O.
   */
  local?: { get(name: string): LoadedPem | undefined } | undefined;
  certificates: Pick<CertificateStore, 'get'>;
  nameStates: NameStateStore;
  pauses: PauseStore;
  alpn: AlpnChallenges;
  decisions: DecisionService;
  admitNewName: NewNameAdmission;
  /**
   * How long a name just denied by the policy, or refused by a limit shared by every client, is
   * refused from memory (0: not remembered). A name allowed meanwhile waits at most this long.
   */
  refusedNameTtlMs: number;
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
  clock?: () => number;
}

type Resolved = { context: SecureContext; rsaContext?: SecureContext | undefined; source: CertificateSource } | null;

/**
 * The SNI callback: which certificate a handshake gets.
 * 1. An invalid or missing SNI gets the fallback (the server's default context), with no I/O.
 * 2. A name in memory is served from memory, with no I/O; else a name in this edge's local store
 *    (any of its processes served it, before a restart too) from there, with no network I/O.
 * 3. A name this process refused a few seconds ago (denied, or over a shared limit) gets the
 *    fallback, with no I/O.
 * 4. A client that used up its new-name allowance in this process gets the fallback, with no
 *    I/O (so a random-SNI flood from one client costs Redis nothing once its allowance is gone).
 * 5. Else one Redis round trip: the certificate, a pending challenge, the policy's decision. A
 *    stored, unexpired certificate is cached and served: no limit refuses a stored name to a
 *    client with allowance left, and serving it spends none.
 * 6. Else a token of the client's allowance is spent, then the domain policy's decision (from
 *    step 5, or evaluated once for the fleet within the new-name limits: this process's bucket,
 *    then the client's and the fleet's in Redis); a name it allows gets one issuance job for
 *    the fleet, and the handshake waits up to `issueWaitMs` for it.
 * Over a limit, or on any failure, the fallback is served at once: a handshake never crashes
 * the edge and never waits without bound. Concurrent handshakes for one name share steps 5-6.
 */
export function createCertificateResolver(deps: CertificateResolverDeps) {
  const clock = deps.clock ?? Date.now;
  const lookups = createSingleflight<string, Resolved>();
  const refused = new RefusedNames({ ttlMs: deps.refusedNameTtlMs, max: MAX_REFUSED_NAMES, clock });
  let pendingIssues = 0;
  let waitingHandshakes = 0;

  const fromStore = (name: string) => deps.cache.get(name, () => deps.certificates.get(name));
  const fromLocal = (name: string): CachedContext | null | undefined => {
    const pem = deps.local?.get(name);
    try {
      return pem && deps.cache.set(name, pem);
    } catch (error) {
      deps.logger.warn({ domain: name, err: errorMessage(error) }, 'local certificate unusable; asking Redis');
      return undefined;
    }
  };

  const limited = (name: string, client: string, limit: LimitName): null => {
    deps.metrics.limited.inc({ limit });
    deps.logger.debug({ domain: name, client, limit }, 'new-name limit reached; fallback');
    return null;
  };

  async function resolve(name: string, client: string): Promise<Resolved> {
    // Sent together, so a name without a certificate costs one round trip before a decision.
    const known = deps.decisions.lookup(name);
    known.catch(() => undefined);
    const [stored, challenged] = await Promise.all([fromStore(name), deps.alpn.check(name)]);
    // A CA validating tls-alpn-01: the default context, then the ALPN callback answers.
    if (challenged) return null;
    if (stored) return { context: stored.context, rsaContext: stored.rsaContext, source: 'store' };
    const spent = deps.admitNewName.spend(client);
    if (spent) return limited(name, client, spent);
    let decision = await known;
    if (!decision) {
      const limit = await deps.admitNewName.admit(client);
      if (limit) {
        // A limit of every client's: refuse the name to all for a moment. One client's limit is
        // that client's (its next names are refused from memory at step 4), not the name's.
        if (limit !== 'new_names_per_ip') refused.add(name, 'limited');
        return limited(name, client, limit);
      }
      decision = await deps.decisions.evaluate(name);
    }
    if (!decision.allowed) {
      // Never longer than the decision itself holds, so a name allowed since is not held back.
      refused.add(name, 'denied', decision.expiresAt - clock());
      return null;
    }
    const [state, blocked] = await Promise.all([deps.nameStates.get(name), deps.pauses.issuanceBlocked()]);
    if (blocksIssuance(state, clock())) {
      deps.logger.debug({ domain: name, state: state?.state, coolUntil: state?.coolUntil }, 'name cooling down or failed; fallback');
      return null;
    }
    if (blocked && blocked.until > clock()) {
      // No CA can take an order now: the job waits for one, the visitor gets the fallback at once.
      await deps.issueAndWait(name, 0);
      deps.logger.info(
        { domain: name, until: new Date(blocked.until).toISOString() },
        'no CA can take an order now; enqueued, fallback at once',
      );
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

  function resolveShared(name: string, client: string): Promise<Resolved> {
    const pending = lookups.pending(name);
    if (pending) return pending;
    // Joining a lookup in flight needs no allowance; starting one needs a token left.
    const limit = deps.admitNewName.check(client);
    if (limit) return Promise.resolve(limited(name, client, limit));
    return lookups.run(name, () => resolve(name, client));
  }

  // A function, not an arrow: Node calls the SNI callback with the TLS socket as `this`,
  // which is the only way to learn the client's address here.
  const sniCallback = function sniCallback(
    this: TLSSocket | undefined,
    servername: string,
    done: (error: Error | null, context?: SecureContext) => void,
  ): void {
    const fallback = () => {
      deps.metrics.certificates.inc({ source: 'fallback' });
      done(null);
    };
    // Every real certificate leaves through here: counted, recorded as served, the connection
    // marked real for the proxy, and the key type chosen for the client.
    const serve = (name: string, source: CertificateSource, found: { context: SecureContext; rsaContext?: SecureContext | undefined }) => {
      deps.metrics.certificates.inc({ source });
      deps.onServed?.(name);
      noteRealCertificate(this);
      done(null, contextFor(this, found.context, found.rsaContext));
    };
    // The hot path: a name already in memory was validated when it was cached, and only
    // normalised names are cached, so a lower-cased SNI that hits needs no further checking.
    const lower = servername.toLowerCase();
    if (!deps.alpn.isPending(lower)) {
      const hit = deps.cache.peek(lower);
      if (hit) {
        serve(lower, 'memory', hit);
        return;
      }
    }
    const check = checkHostname(servername, deps.hostnameOptions);
    if (!check.ok) {
      fallback();
      return;
    }
    if (deps.alpn.isPending(check.name)) {
      done(null);
      return;
    }
    const local = fromLocal(check.name);
    if (local) {
      serve(check.name, 'local', local);
      return;
    }
    const refusal = refused.get(check.name);
    if (refusal) {
      deps.metrics.refusedNameHits.inc({ reason: refusal });
      fallback();
      return;
    }
    if (waitingHandshakes >= deps.maxWaitingHandshakes) {
      deps.metrics.limited.inc({ limit: 'waiting_handshakes' });
      fallback();
      return;
    }
    waitingHandshakes += 1;
    resolveShared(check.name, clientKey(this?.remoteAddress ?? 'unknown'))
      .then(
        (resolved) => {
          if (!resolved) {
            fallback();
            return;
          }
          serve(check.name, resolved.source, resolved);
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

  /** Forgets that `name` was just refused here: its certificate was stored (issued through another edge). */
  const forget = (name: string) => refused.delete(name);
  return Object.assign(sniCallback, { forget });
}
