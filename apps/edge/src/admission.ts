import type { BucketSpec, TokenBuckets } from '@certfleet/budget';
import type { RedisKeys } from '@certfleet/store';
import type { LimitName } from './metrics.js';

/**
 * Abuse limits on new names: a scanner sending random SNI names makes the fleet evaluate
 * (DNS, ask endpoint) at most this fast, per client address and in total. Token buckets in
 * Redis, shared by every edge.
 */
export function createNewNameAdmission(deps: {
  buckets: TokenBuckets;
  keys: RedisKeys;
  perIp: BucketSpec;
  fleet: BucketSpec;
}) {
  return async (clientIp: string): Promise<LimitName | null> => {
    const perIp = await deps.buckets.take(deps.keys.bucket(`new-names-ip:${clientIp}`), deps.perIp);
    if (!perIp.granted) return 'new_names_per_ip';
    const fleet = await deps.buckets.take(deps.keys.bucket('new-names-fleet'), deps.fleet);
    if (!fleet.granted) return 'new_names_fleet';
    return null;
  };
}

export type NewNameAdmission = ReturnType<typeof createNewNameAdmission>;
