import { LRUCache } from 'lru-cache';
import { createSingleflight } from '@certfleet/singleflight';
import type { CachedAnswer } from './aliases.js';
import { relevantCaa, type RelevantCaa } from './caa-lookup.js';
import { resolveChain, type ChainResult } from './chain.js';
import type { DnsQuerier } from './client.js';
import { DnsUnavailableError } from './errors.js';
import { normalizeName } from './names.js';
import type { DnsResponse, RecordType } from './response.js';

export interface CachingResolverOptions {
  /** Where misses go: createDnsClient's client, or a fake in tests. */
  client: DnsQuerier;
  /** Milliseconds since the epoch; injected so tests move time without sleeping. */
  clock?: () => number;
  /** Floor for a positive answer's TTL: a TTL of 0 would send every handshake to the network. */
  minTtlMs: number;
  /** Ceiling for a positive answer's TTL, so a changed record is seen within this long. */
  maxTtlMs: number;
  /**
   * How long NXDOMAIN and empty (NODATA) answers are cached at most; the zone's SOA may ask for
   * less, but never less than `minTtlMs` (DNS_NEGATIVE_TTL, 5 s by default).
   */
  negativeTtlMs: number;
  /**
   * When every server fails, the last good answer is served if it expired less than this long
   * ago; after that the DnsUnavailableError reaches the caller (DNS_MAX_STALE, 300 s by default).
   */
  maxStaleMs: number;
  /** Bound on cached answers (one per name and type); least recently used go first. */
  maxEntries: number;
}

/** DNS lookups for the handshake path: cached, collapsed, bounded in time by the client's timeouts. */
export interface CachingResolver {
  /** One question, from the cache when fresh; concurrent identical questions share one lookup. */
  query(name: string, type: RecordType): Promise<CachedAnswer>;
  /** Follows the name's CNAME chain (at most `maxDepth` aliases, 8 by default) to its addresses. */
  resolveChain(name: string, options?: { maxDepth?: number }): Promise<ChainResult>;
  /** The CAA records that govern issuance for the name (RFC 8659 tree climbing). */
  relevantCaa(name: string): Promise<RelevantCaa>;
}

interface Entry {
  response: DnsResponse;
  expiresAt: number;
}

// The limit public resolvers apply is around 8-16 aliases; real chains are 1-3 (CDN hand-offs).
const DEFAULT_MAX_DEPTH = 8;

/** A cache in front of a DnsQuerier, with serve-stale (in the spirit of RFC 8767) when servers fail. */
export function createCachingResolver(options: CachingResolverOptions): CachingResolver {
  validate(options);
  const clock = options.clock ?? Date.now;
  const cache = new LRUCache<string, Entry>({ max: options.maxEntries });
  const lookups = createSingleflight<string, CachedAnswer>();

  const ttlFor = (response: DnsResponse): number => {
    if (response.rcode === 'NXDOMAIN' || response.answers.length === 0) {
      const soaMs = response.authoritiesMinTtl === undefined ? Infinity : response.authoritiesMinTtl * 1000;
      return Math.min(options.negativeTtlMs, Math.max(options.minTtlMs, soaMs));
    }
    const seconds = Math.min(...response.answers.map((r) => r.ttl));
    return Math.min(options.maxTtlMs, Math.max(options.minTtlMs, seconds * 1000));
  };

  const refresh = async (key: string, name: string, type: RecordType): Promise<CachedAnswer> => {
    try {
      const response = await options.client.query(name, type);
      const expiresAt = clock() + ttlFor(response);
      cache.set(key, { response, expiresAt });
      return { response, stale: false, expiresAt };
    } catch (error) {
      // Only an outage earns a stale answer; a bug (any other error) must surface.
      const last = cache.get(key);
      if (error instanceof DnsUnavailableError && last && clock() < last.expiresAt + options.maxStaleMs) {
        return { response: last.response, stale: true, expiresAt: last.expiresAt };
      }
      throw error;
    }
  };

  const query = (rawName: string, type: RecordType): Promise<CachedAnswer> => {
    const name = normalizeName(rawName);
    const key = `${type} ${name}`;
    const hit = cache.get(key);
    if (hit && clock() < hit.expiresAt) return Promise.resolve({ ...hit, stale: false });
    return lookups.run(key, () => refresh(key, name, type));
  };

  const deps = { query, clock };
  return {
    query,
    resolveChain: (name, chainOptions) => resolveChain(deps, normalizeName(name), chainOptions?.maxDepth ?? DEFAULT_MAX_DEPTH),
    relevantCaa: (name) => relevantCaa(deps, normalizeName(name), DEFAULT_MAX_DEPTH),
  };
}

function validate(o: CachingResolverOptions): void {
  const durations = { minTtlMs: o.minTtlMs, maxTtlMs: o.maxTtlMs, negativeTtlMs: o.negativeTtlMs, maxStaleMs: o.maxStaleMs };
  for (const [key, value] of Object.entries(durations)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new Error(`DNS cache ${key} must be a number of milliseconds of 0 or more, got ${value}`);
    }
  }
  if (o.minTtlMs > o.maxTtlMs) {
    throw new Error(`DNS cache minTtlMs (${o.minTtlMs}) must not exceed maxTtlMs (${o.maxTtlMs})`);
  }
  if (!Number.isInteger(o.maxEntries) || o.maxEntries < 1) {
    throw new Error(`DNS cache maxEntries must be a whole number of 1 or more, got ${o.maxEntries}`);
  }
}
