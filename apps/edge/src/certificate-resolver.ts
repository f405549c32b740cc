import type { SecureContext } from 'node:tls';
import { checkHostname } from '@certfleet/domain';
import { errorMessage, type Logger } from '@certfleet/observability';
import type { DomainPolicy } from '@certfleet/policy';
import type { CertificateStore } from '@certfleet/store';
import type { SecureContextCache } from '@certfleet/tls';

/** Asks the issuer pool for a certificate and waits at most `timeoutMs`; true when one was issued. */
export type IssueAndWait = (name: string, timeoutMs: number) => Promise<boolean>;

export interface CertificateResolverDeps {
  cache: SecureContextCache;
  certificates: CertificateStore;
  policy: DomainPolicy;
  issueAndWait: IssueAndWait;
  /** How long a handshake for a new, allowed name waits for its certificate. */
  issueWaitMs: number;
  logger: Logger;
}

/**
 * The SNI callback: which certificate a handshake gets.
 * 1. An invalid or missing SNI gets the fallback (the server's default context), with no I/O.
 * 2. A name in memory is served from memory, with no I/O.
 * 3. Else one Redis read; a stored, unexpired certificate is cached and served.
 * 4. Else, if the policy allows the name, one issuance job is requested (fleet-wide
 *    deduplicated) and the handshake waits up to `issueWaitMs` for it; else the fallback.
 * Concurrent handshakes for one name share steps 3-4. Any failure serves the fallback: a
 * handshake never crashes the edge.
 */
export function createCertificateResolver(deps: CertificateResolverDeps) {
  const inflight = new Map<string, Promise<SecureContext | null>>();

  const fromStore = (name: string) => deps.cache.get(name, () => deps.certificates.get(name));

  async function resolve(name: string): Promise<SecureContext | null> {
    const stored = await fromStore(name);
    if (stored) return stored.context;
    const decision = await deps.policy.decide(name);
    if (!decision.allowed) {
      deps.logger.debug({ domain: name, policy: decision.policy, reason: decision.reason }, 'name not allowed; fallback');
      return null;
    }
    const issued = await deps.issueAndWait(name, deps.issueWaitMs);
    if (!issued) {
      deps.logger.info({ domain: name, waitedMs: deps.issueWaitMs }, 'certificate not ready in time; fallback');
      return null;
    }
    return (await fromStore(name))?.context ?? null;
  }

  function resolveShared(name: string): Promise<SecureContext | null> {
    const pending = inflight.get(name);
    if (pending) return pending;
    const promise = resolve(name).finally(() => inflight.delete(name));
    inflight.set(name, promise);
    return promise;
  }

  return function sniCallback(servername: string, done: (error: Error | null, context?: SecureContext) => void): void {
    const check = checkHostname(servername);
    if (!check.ok) {
      done(null);
      return;
    }
    const hit = deps.cache.peek(check.name);
    if (hit) {
      done(null, hit.context);
      return;
    }
    resolveShared(check.name).then(
      (context) => done(null, context ?? undefined),
      (error: unknown) => {
        deps.logger.warn({ domain: check.name, err: errorMessage(error) }, 'certificate lookup failed; fallback');
        done(null);
      },
    );
  };
}
