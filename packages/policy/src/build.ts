import type { PolicyConfig } from '@certfleet/config';
import { createCachingResolver, createDnsClient } from '@certfleet/dns';
import type { Store } from '@certfleet/store';
import { allowlistPolicy } from './allowlist.js';
import { askPolicy } from './ask.js';
import { createPolicyChain } from './chain.js';
import { dnsPolicy } from './dns.js';
import type { DomainPolicy } from './types.js';

/** How long a deny stands when a source is down and nothing recent is remembered: short, to retry soon. */
const UNAVAILABLE_TTL_MS = 5_000;
/** How long "no policy allowed it" stands. */
const DEFAULT_DENY_TTL_MS = 5_000;

/**
 * The policy chain ALLOW_POLICY describes, over the deployment's store. `readOnly` evaluates
 * without writing anything (for `certfleet domains check`).
 */
export function createPolicyChainFromConfig(
  config: PolicyConfig,
  store: Pick<Store, 'allowlist' | 'decisions'>,
  options: { readOnly?: boolean } = {},
) {
  const policies: DomainPolicy[] = config.policies.map((name) => {
    switch (name) {
      case 'allowlist':
        return allowlistPolicy(store.allowlist);
      case 'ask': {
        if (!config.ask) throw new Error('the ask policy needs ALLOW_ASK_URL');
        return askPolicy(config.ask);
      }
      case 'dns': {
        const dns = config.dns;
        if (!dns) throw new Error('the dns policy needs its configuration');
        const resolver = createCachingResolver({
          client: createDnsClient({ servers: dns.servers, timeoutMs: dns.timeoutMs }),
          minTtlMs: dns.minTtlMs,
          maxTtlMs: dns.maxTtlMs,
          negativeTtlMs: dns.negativeTtlMs,
          maxStaleMs: dns.maxStaleMs,
          maxEntries: 100_000,
        });
        return dnsPolicy({
          resolver,
          cnameTarget: dns.cnameTarget,
          ips: new Set(dns.ips),
          caaIdentities: dns.caaIdentities,
          maxStaleMs: dns.maxStaleMs,
          negativeTtlMs: dns.negativeTtlMs,
        });
      }
      default:
        throw new Error(`unknown domain policy "${name satisfies never}"`);
    }
  });
  return createPolicyChain({
    policies,
    memory: store.decisions,
    readOnly: options.readOnly ?? false,
    unavailableTtlMs: UNAVAILABLE_TTL_MS,
    defaultDenyTtlMs: DEFAULT_DENY_TTL_MS,
  });
}

/** The longest one evaluation of the chain can take: each source's timeout, in order. */
export function evaluationTimeoutMs(config: PolicyConfig): number {
  // A one-hop chain and the CAA walk are a few queries in a row, each up to servers x 2 attempts.
  const dnsMs = config.dns ? config.dns.timeoutMs * Math.max(1, config.dns.servers.length) * 8 : 0;
  return 500 + (config.ask?.timeoutMs ?? 0) + dnsMs;
}
