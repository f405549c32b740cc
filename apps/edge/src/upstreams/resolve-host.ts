import { lookup } from 'node:dns/promises';
import { createCachingResolver, createDnsClient, type DnsServer } from '@certfleet/dns';
import type { ResolveHost } from './pool.js';

// One attempt per server; a resolution runs off the request path, every UPSTREAM_RESOLVE_INTERVAL.
const DNS_TIMEOUT_MS = 2_000;

/**
 * How upstream host names are looked up: over `servers` with the project's DNS client (CNAME
 * chains followed, A then AAAA), or with the system resolver (getaddrinfo: /etc/hosts, then
 * the system's DNS) when no server is configured.
 */
export function createHostResolver(servers: DnsServer[] | undefined): ResolveHost {
  if (!servers) {
    return async (host) => (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
  }
  // No caching: the pool asks once an interval and must see a change by the next one, whatever
  // the record's TTL (that is the point of re-resolving). The cache still collapses lookups.
  const resolver = createCachingResolver({
    client: createDnsClient({ servers, timeoutMs: DNS_TIMEOUT_MS }),
    minTtlMs: 0,
    maxTtlMs: 0,
    negativeTtlMs: 0,
    maxStaleMs: 0,
    maxEntries: 1_000,
  });
  return async (host) => {
    const result = await resolver.resolveChain(host);
    if (result.nxdomain) throw new Error(`${host} does not exist (NXDOMAIN at ${result.chain[result.chain.length - 1]})`);
    return result.addresses;
  };
}
