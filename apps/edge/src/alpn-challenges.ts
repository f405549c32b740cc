import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import type { Logger } from '@certfleet/observability';
import type { ChallengeStore } from '@certfleet/store';

const ACME_TLS_1 = 'acme-tls/1';

/**
 * tls-alpn-01 on the HTTPS port. The CA connects with SNI = the name and ALPN `acme-tls/1`, and
 * must get the challenge certificate. Node's SNI callback cannot see the ALPN offer and, in TLS
 * 1.3, a context chosen there wins over one set later; so for a name with a pending challenge
 * the SNI callback returns nothing (the default context) and the ALPN callback sets the
 * challenge certificate when `acme-tls/1` is offered. Pending names are learnt from pub/sub and
 * from Redis on a certificate miss. (Plain visitors of such a name get the fallback for the
 * second or so a validation takes.)
 */
export function createAlpnChallenges(deps: { challenges: ChallengeStore; logger: Logger /** Offer h2 (EDGE_HTTP2). */; http2?: boolean }) {
  const pending = new Map<string, SecureContext>();

  async function refresh(name: string): Promise<boolean> {
    const answer = await deps.challenges.getAlpn(name);
    if (answer) pending.set(name, createSecureContext({ cert: answer.certPem, key: answer.keyPem }));
    else pending.delete(name);
    return answer !== null;
  }

  return {
    /** Synchronous: is a challenge pending for `name` (SNI callback must then return nothing)? */
    isPending: (name: string) => pending.has(name),
    /** After pub/sub says the answer for `name` changed. */
    onChanged(name: string): void {
      refresh(name).catch((error: unknown) => deps.logger.warn({ domain: name, err: String(error) }, 'tls-alpn-01 answer lookup failed'));
    },
    /** On a certificate miss: learn a pending challenge pub/sub has not delivered yet. */
    check: refresh,
    /**
     * The server's ALPN callback: the challenge certificate for `acme-tls/1`, else h2 when the
     * edge offers it and the client does, else HTTP/1.1 (a client offering neither is refused).
     * Called with the TLS socket as `this`.
     */
    alpnCallback(this: TLSSocket, params: { servername: string; protocols: string[] }): string | undefined {
      if (params.protocols.includes(ACME_TLS_1)) {
        const context = pending.get(params.servername);
        if (!context) return undefined;
        this.setKeyCert(context);
        deps.logger.info({ domain: params.servername }, 'answered tls-alpn-01 challenge');
        return ACME_TLS_1;
      }
      if (deps.http2 && params.protocols.includes('h2')) return 'h2';
      return params.protocols.includes('http/1.1') ? 'http/1.1' : undefined;
    },
  };
}

export type AlpnChallenges = ReturnType<typeof createAlpnChallenges>;
