import type { PolicyConfig } from '@certfleet/config';
import { createCachingResolver, createDnsClient } from '@certfleet/dns';
import type { DnsObserver } from '@certfleet/hostnames';

/** Answers cached for the API's lookups: one per GET of one hostname, so a small cache does. */
const CACHED_NAMES = 10_000;

/**
 * What the hostname object's `dns` shows, when the dns policy is on: the target customers should
 * point at, and what a name points at now, looked up with the same resolver settings as the
 * policy (DNS_SERVERS, DNS_TIMEOUT, TTL bounds). Undefined when the dns policy is off.
 */
export function dnsObserverOf(policy: PolicyConfig): DnsObserver | undefined {
  const dns = policy.dns;
  if (!policy.policies.includes('dns') || !dns) return undefined;
  const resolver = createCachingResolver({
    client: createDnsClient({ servers: dns.servers, timeoutMs: dns.timeoutMs }),
    minTtlMs: dns.minTtlMs,
    maxTtlMs: dns.maxTtlMs,
    negativeTtlMs: dns.negativeTtlMs,
    maxStaleMs: dns.maxStaleMs,
    maxEntries: CACHED_NAMES,
  });
  return {
    cnameTarget: dns.cnameTarget ?? dns.ips.join(', '),
    async observe(name) {
      const chain = await resolver.resolveChain(name, { maxDepth: 8 });
      return [...chain.chain.slice(1), ...chain.addresses];
    },
  };
}
