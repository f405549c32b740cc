import type { BucketSpec, TokenBuckets } from '@certfleet/budget';
import type { BudgetKeys } from '@certfleet/store';
import { LocalBuckets } from './local-buckets.js';
import type { LimitName } from './metrics.js';

/**
 * Client keys whose allowance one process remembers. A key forgotten comes back with a full
 * allowance, so this should exceed the clients flooding at once (65,536 is every /64 of a /48).
 * Measured on Node 20: 14 MB of heap when full, about 210 bytes a key.
 */
const MAX_CLIENT_KEYS = 65_536;

export interface NewNameAdmissionOptions {
  buckets: TokenBuckets;
  keys: Pick<BudgetKeys, 'newNamesPerClient' | 'newNamesFleet'>;
  /** One client's allowance (an IPv4 address, an IPv6 /64: see clientKey), in each process and in Redis. */
  perIp: BucketSpec;
  /** The fleet's allowance in Redis; each process also keeps it as its own ceiling. */
  fleet: BucketSpec;
  clock?: () => number;
}

/**
 * Abuse limits on new names: a scanner sending random SNI names makes the fleet look names up
 * in Redis and evaluate them (DNS, ask endpoint) at most this fast, per client and in total.
 *
 * Three steps, cheapest first, so a flood is refused before it costs Redis anything:
 * - {@link NewNameAdmission.check}, before any Redis read: does the client have a token left
 *   in this process? One that used its allowance up is refused with no I/O.
 * - {@link NewNameAdmission.spend}, after the read, only for a name with no stored
 *   certificate: takes the token. A stored name costs no token, so however many stored names a
 *   client (or a proxy in front of many) asks for, it is never refused while it asks for few
 *   unknown ones.
 * - {@link NewNameAdmission.admit}, for a name with neither certificate nor decision: the
 *   process's own bucket in memory, then the client's and the fleet's buckets in Redis, taken
 *   all-or-nothing in one round trip (two on a Redis Cluster, where the two buckets are in
 *   different slots; three when the fleet's refuses and the client's token is given back),
 *   shared by every edge, so N processes cannot multiply a client's allowance by N.
 */
export function createNewNameAdmission(options: NewNameAdmissionOptions) {
  const clock = options.clock ?? Date.now;
  const clients = new LocalBuckets({ spec: options.perIp, maxKeys: MAX_CLIENT_KEYS, clock });
  // No process may evaluate more than the whole fleet may: a distributed flood (many clients)
  // stops here, after its one read, without a second round trip for the fleet's bucket.
  const processWide = new LocalBuckets({ spec: options.fleet, maxKeys: 1, clock });
  const perIpClaim = (client: string) => ({ key: options.keys.newNamesPerClient(client), spec: options.perIp });
  const fleetClaim = { key: options.keys.newNamesFleet, spec: options.fleet };

  return {
    /** Synchronous, no I/O, takes nothing: the limit that refuses `client` now, or null. */
    check(client: string): LimitName | null {
      return clients.has(client) ? null : 'new_names_per_ip_local';
    },
    /**
     * Synchronous, no I/O: a token of `client`'s allowance, for a name found to have no
     * certificate (several of its handshakes may have passed `check` on the last token).
     */
    spend(client: string): LimitName | null {
      return clients.take(client) ? null : 'new_names_per_ip_local';
    },
    /** For a name with no certificate and no decision: the process's bucket, then one round trip to Redis. */
    async admit(client: string): Promise<LimitName | null> {
      if (!processWide.take('')) return 'new_names_process';
      const result = await options.buckets.takeAll([perIpClaim(client), fleetClaim]);
      if (result.granted) return null;
      return result.refusedBy?.key === fleetClaim.key ? 'new_names_fleet' : 'new_names_per_ip';
    },
  };
}

export type NewNameAdmission = ReturnType<typeof createNewNameAdmission>;
