import { caaPermits, DnsUnavailableError, type CachingResolver } from '@certfleet/dns';
import { PolicySourceUnavailableError, type DomainPolicy } from './types.js';

export interface DnsPolicyOptions {
  resolver: CachingResolver;
  /** Allow when the name's CNAME chain reaches this name (the fleet's own host name). */
  cnameTarget: string | undefined;
  /** Allow when an A/AAAA answer at the end of the chain is one of these (the fleet's addresses). */
  ips: ReadonlySet<string>;
  /** Issuer domains our CA(s) are known by in CAA records, e.g. `letsencrypt.org`. */
  caaIdentities: readonly string[];
  /** How long an answer stands in while every resolver fails (DNS_MAX_STALE). */
  maxStaleMs: number;
  negativeTtlMs: number;
  maxChainDepth?: number;
}

/**
 * The ownership check of lua-resty-auto-ssl deployments: a name is ours when the customer
 * pointed it at us. CAA is read first: a name whose CAA records forbid our CA is denied before
 * any order (the CA would refuse it, and the failure would count against the account).
 * A name that points elsewhere gets no opinion (the next policy may know it).
 */
export function dnsPolicy(options: DnsPolicyOptions): DomainPolicy {
  const unavailable = (error: unknown): never => {
    if (error instanceof DnsUnavailableError) throw new PolicySourceUnavailableError(error.message);
    throw error;
  };
  return {
    name: 'dns',
    maxStaleMs: options.maxStaleMs,
    async evaluate(name) {
      const [caa, chain] = await Promise.all([
        options.resolver.relevantCaa(name).catch(unavailable),
        options.resolver.resolveChain(name, { maxDepth: options.maxChainDepth ?? 8 }).catch(unavailable),
      ]);
      const permit = caaPermits(caa.records, options.caaIdentities, caa.owner);
      if (!permit.permitted) return { verdict: 'deny', reason: permit.reason, ttlMs: Math.max(caa.ttlMs, options.negativeTtlMs) };
      const ttlMs = Math.max(1_000, Math.min(chain.ttlMs, caa.ttlMs || chain.ttlMs));
      const path = chain.chain.join(' -> ');
      if (options.cnameTarget && chain.chain.slice(1).includes(options.cnameTarget)) {
        return { verdict: 'allow', reason: `CNAME chain ${path} reaches ${options.cnameTarget}`, ttlMs };
      }
      const ours = chain.addresses.find((address) => options.ips.has(address));
      if (ours) return { verdict: 'allow', reason: `${path} resolves to ${ours}, one of ours`, ttlMs };
      if (chain.nxdomain) return { verdict: 'abstain', reason: `${name} does not exist in DNS`, ttlMs: options.negativeTtlMs };
      return {
        verdict: 'abstain',
        reason: `${path} resolves to ${chain.addresses.join(', ') || 'no address'}, not to us`,
        ttlMs: Math.max(options.negativeTtlMs, Math.min(ttlMs, 60_000)),
      };
    },
  };
}
