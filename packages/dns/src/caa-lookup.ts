import { remainingTtl, walkAliases, type AliasWalk, type CachedQuery } from './aliases.js';
import { parentName } from './names.js';
import type { CaaRecord } from './response.js';

/** The CAA records that govern issuance for a name (RFC 8659 section 3, "Relevant RRset"). */
export interface RelevantCaa {
  /** The name in the tree (the queried name or an ancestor) where records were found; null if none. */
  owner: string | null;
  /** The name holding the records: `owner`, or the end of its CNAME chain. */
  holder: string | null;
  records: CaaRecord[];
  /** Some answer used is a stale one, served because every server failed. */
  stale: boolean;
  /** Milliseconds until the first answer used stops being fresh (0 when stale). */
  ttlMs: number;
}

/**
 * Climbs from `name` towards the root (the TLD included, the root not) and returns the first
 * non-empty CAA RRset. As RFC 8659 says, CAA(X) follows X's CNAMEs, but the climb goes on from
 * X's parent, not the target's. All levels are asked at once, as Let's Encrypt's Boulder does,
 * so the lookup costs one round trip however deep the name. A failed lookup below the first
 * non-empty level fails the whole lookup: records hidden behind it could forbid issuance.
 */
export async function relevantCaa(deps: { query: CachedQuery; clock: () => number }, name: string, maxDepth: number): Promise<RelevantCaa> {
  const levels: string[] = [];
  for (let level: string | null = name; level; level = parentName(level)) levels.push(level);
  const walks = await Promise.allSettled(levels.map((level) => walkAliases(deps.query, level, 'CAA', maxDepth)));
  const used: AliasWalk['used'] = [];
  for (const [index, walk] of walks.entries()) {
    if (walk.status === 'rejected') throw walk.reason;
    used.push(...walk.value.used);
    const records = walk.value.records.flatMap((r) => (r.type === 'CAA' ? [r.data] : []));
    if (records.length > 0) {
      const holder = walk.value.chain[walk.value.chain.length - 1] as string;
      return { owner: levels[index] as string, holder, records, ...freshness(used, deps.clock()) };
    }
  }
  return { owner: null, holder: null, records: [], ...freshness(used, deps.clock()) };
}

function freshness(used: AliasWalk['used'], now: number): { stale: boolean; ttlMs: number } {
  return { stale: used.some((a) => a.stale), ttlMs: remainingTtl(used, now) };
}
