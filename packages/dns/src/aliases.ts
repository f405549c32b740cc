import { DnsAliasError } from './errors.js';
import type { DnsRecord, DnsResponse, RecordType } from './response.js';

/** An answer as the cache hands it out. */
export interface CachedAnswer {
  response: DnsResponse;
  /** True when every server failed and this is the last good answer, past its TTL. */
  stale: boolean;
  /** Clock time when the answer stops being fresh. */
  expiresAt: number;
}

/** The cached query function the lookups below are built on. */
export type CachedQuery = (name: string, type: RecordType) => Promise<CachedAnswer>;

/** What following a name's CNAMEs for one record type found. */
export interface AliasWalk {
  /** [name, alias target, its target, ...]; the last entry has no CNAME. */
  chain: string[];
  /** The records of the asked type owned by the last name of the chain. */
  records: DnsRecord[];
  /** The last name does not exist. */
  nxdomain: boolean;
  /** Every answer used, for freshness and TTL bookkeeping. */
  used: CachedAnswer[];
}

/**
 * Asks for `type` at `name` and, while the owner of the answer is an alias, asks again at the
 * alias target, one query per hop. Each hop is asked on its own rather than trusting records
 * for the target that ride along in the same answer: pebble-challtestsrv puts the target's
 * default A record there even when the target is itself a CNAME, and per-name answers cache
 * under their own TTLs. Throws DnsAliasError on a loop or more than `maxDepth` aliases.
 */
export async function walkAliases(query: CachedQuery, name: string, type: RecordType, maxDepth: number): Promise<AliasWalk> {
  const chain = [name];
  const used: CachedAnswer[] = [];
  for (;;) {
    const current = chain[chain.length - 1] as string;
    const answer = await query(current, type);
    used.push(answer);
    // The CNAME comes first: a resolver's NXDOMAIN after an alias is about the target.
    const alias = answer.response.answers.find((r) => r.type === 'CNAME' && r.name === current);
    if (alias?.type !== 'CNAME') {
      const records = answer.response.answers.filter((r) => r.type === type && r.name === current);
      return { chain, records, nxdomain: answer.response.rcode === 'NXDOMAIN', used };
    }
    const target = alias.data;
    if (chain.includes(target)) throw new DnsAliasError('loop', [...chain, target], maxDepth);
    if (chain.length > maxDepth) throw new DnsAliasError('too-deep', [...chain, target], maxDepth);
    chain.push(target);
  }
}

/** Milliseconds until the first of `answers` stops being fresh (0 when one is already stale). */
export function remainingTtl(answers: readonly CachedAnswer[], now: number): number {
  const expiresAt = Math.min(...answers.map((a) => a.expiresAt));
  return Math.max(0, expiresAt - now);
}
