/*
 * Why a DNS client of our own (dns-packet over UDP/TCP) and not node:dns or a resolver library:
 * the dns policy must know whether a name points at us, and why not, from the authoritative
 * answers' own records, and node:dns (c-ares) and the libraries over it (tangerine, dns2's
 * resolver) hand back only the final addresses. What the policy needs and they lack:
 * - the TTL of every CNAME step, so a cached chain expires when its shortest link does;
 * - stale-on-failure: the last good answer kept for a bounded time when the servers fail
 *   (SERVFAIL, timeout), instead of an outage of every new name;
 * - CAA tree climbing (RFC 8659): each level's CNAMEs followed, the climb going on from the
 *   level's parent, all levels asked at once; no resolver API returns that relevant set;
 * - the response code and which server answered, for errors a customer can act on.
 */
export { createDnsClient } from './client.js';
export type { DnsClientOptions, DnsQuerier } from './client.js';
export { createCachingResolver } from './caching-resolver.js';
export type { CachingResolver, CachingResolverOptions } from './caching-resolver.js';
export type { CachedAnswer } from './aliases.js';
export type { ChainResult } from './chain.js';
export type { RelevantCaa } from './caa-lookup.js';
export { caaPermits } from './caa.js';
export type { CaaVerdict } from './caa.js';
export { DnsAliasError, DnsUnavailableError } from './errors.js';
export type { ServerFailure } from './errors.js';
export { normalizeName } from './names.js';
export type { CaaRecord, DnsRecord, DnsResponse, DnsServer, RecordType } from './response.js';
