import type { DnsServer, RecordType } from './response.js';

/** Why one server gave no usable answer: an rcode (`SERVFAIL`) or a transport failure. */
export interface ServerFailure {
  server: DnsServer;
  reason: string;
}

/**
 * No configured server gave a usable answer (every one timed out, failed, or answered SERVFAIL /
 * REFUSED). The operator must act: check the servers in `failures`. The answer is unknown, not
 * negative: callers must not treat this as "the name does not exist".
 */
export class DnsUnavailableError extends Error {
  override readonly name = 'DnsUnavailableError';

  constructor(
    readonly query: { name: string; type: RecordType },
    readonly failures: readonly ServerFailure[],
  ) {
    const detail = failures.map((f) => `${f.server.host}:${f.server.port} ${f.reason}`).join(', ');
    super(`no DNS server answered for ${query.name} ${query.type}: ${detail || 'no servers configured'}`);
  }
}

/**
 * The CNAME records of a name loop or chain deeper than allowed. The domain owner must act: the
 * message names the chain so it can be fixed. Public resolvers give up on such chains too.
 */
export class DnsAliasError extends Error {
  override readonly name = 'DnsAliasError';

  constructor(
    readonly kind: 'loop' | 'too-deep',
    readonly chain: readonly string[],
    maxDepth: number,
  ) {
    const path = chain.join(' -> ');
    super(
      kind === 'loop'
        ? `CNAME records of ${chain[0]} form a loop (${path}): the domain owner must fix the CNAME records`
        : `CNAME chain of ${chain[0]} is longer than ${maxDepth} aliases (${path}): the domain owner must shorten it`,
    );
  }
}
