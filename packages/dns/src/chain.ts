import { remainingTtl, walkAliases, type CachedQuery } from './aliases.js';

/** Where a name leads: its CNAME chain and the addresses at the end of it. */
export interface ChainResult {
  /** [name, cname1, cname2, ...]: the queried name, then each alias target in order. */
  chain: string[];
  /** A then AAAA addresses of the last name of the chain. */
  addresses: string[];
  /** Milliseconds until the first answer used stops being fresh (0 when stale). */
  ttlMs: number;
  /** Some answer used is a stale one, served because every server failed. */
  stale: boolean;
  /** The name, or the end of its chain, does not exist. */
  nxdomain: boolean;
}

/**
 * Follows `name`'s CNAMEs by asking for A at each hop, then asks for AAAA at the end of the
 * chain. At most 2 + maxDepth queries, each bounded by the client's timeouts and cached.
 */
export async function resolveChain(
  deps: { query: CachedQuery; clock: () => number },
  name: string,
  maxDepth: number,
): Promise<ChainResult> {
  const walk = await walkAliases(deps.query, name, 'A', maxDepth);
  const used = [...walk.used];
  const end = walk.chain[walk.chain.length - 1] as string;
  const addresses = walk.records.flatMap((r) => (r.type === 'A' ? [r.data] : []));
  if (!walk.nxdomain) {
    const aaaa = await deps.query(end, 'AAAA');
    used.push(aaaa);
    // Only AAAA records of the end name count; a CNAME appearing here since the A query is a
    // change in flight that the next lookup, after these answers expire, will follow.
    for (const record of aaaa.response.answers) {
      if (record.type === 'AAAA' && record.name === end) addresses.push(record.data);
    }
  }
  return {
    chain: walk.chain,
    addresses,
    ttlMs: remainingTtl(used, deps.clock()),
    stale: used.some((a) => a.stale),
    nxdomain: walk.nxdomain,
  };
}
