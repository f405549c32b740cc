import { readTokens, type BucketSpec } from '@certfleet/budget';
import type { RedisClient } from './connect.js';
import { HOSTNAME_INDEX_STATUSES } from './hostnames.js';
import { redisKeys } from './keys.js';
import type { IssuanceState } from './name-state.js';

/** What the indexes say about the fleet's certificates at one moment, each from a count (no scan). */
export interface CertificateCounts {
  /** Certificates in the inventory (served ones, retired or not). */
  inventory: number;
  /** Inventory certificates whose notAfter has passed. */
  expired: number;
  /** Certificates with a renewal scheduled (the `renewals` index: every certificate not retired). */
  scheduled: number;
  /** Of those, due for renewal at `now` and not yet taken by the renewer. */
  due: number;
}

/** One certificate's expiry, for the per-hostname series. */
export interface Expiry {
  name: string;
  /** ms since epoch. */
  notAfter: number;
}

/**
 * Read-only queries for metrics, each O(log n) or bounded by a small `limit`, so a scrape at a
 * million certificates costs what it costs at ten. Every command names one key (the indexes
 * live in slots of their own on a Cluster).
 */
export interface MetricReads {
  certificateCounts(now: number): Promise<CertificateCounts>;
  /** For each bound (seconds from `now`), how many inventory certificates expire at or before `now + bound`: cumulative, as histogram buckets. */
  expiringWithin(now: number, boundsSeconds: readonly number[]): Promise<number[]>;
  /** Up to `limit` certificates not retired, soonest notAfter first (expired ones first of all). */
  soonestExpiring(limit: number): Promise<Expiry[]>;
  /** The notAfter (ms) of each name's served certificate, null for a name with none. */
  notAfterOf(names: readonly string[]): Promise<(number | null)[]>;
  /** Each name's issuance state (name-state), null for a name with none. */
  statesOf(names: readonly string[]): Promise<(IssuanceState | null)[]>;
  /** Tokens left at `now` in a token bucket (a CA budget: `store.budgetKeys.caOrders(ca)`). */
  bucketTokens(key: string, spec: BucketSpec, now: number): Promise<number>;
  /** Whether a CA is paused for the fleet now (a 429's Retry-After, an outage). */
  caPaused(ca: string): Promise<boolean>;
  /** Hostnames registered through the API or CLI, by index status (pending, active, failed, retired), and `total`. */
  hostnameCounts(): Promise<Record<string, number>>;
}

/** Pages read at most when looking past retired certificates for the soonest-expiring ones. */
const MAX_PAGES = 4;

export function createMetricReads(redis: RedisClient, prefix: string): MetricReads {
  const keys = redisKeys(prefix);
  return {
    async certificateCounts(now) {
      const [inventory, expired, scheduled, due] = await Promise.all([
        redis.zcard(keys.inventory),
        redis.zcount(keys.inventory, '-inf', now),
        redis.zcard(keys.renewals),
        redis.zcount(keys.renewals, '-inf', now),
      ]);
      return { inventory, expired, scheduled, due };
    },
    expiringWithin(now, boundsSeconds) {
      return Promise.all(boundsSeconds.map((bound) => redis.zcount(keys.inventory, '-inf', now + bound * 1000)));
    },
    async soonestExpiring(limit) {
      const found: Expiry[] = [];
      // Retired certificates stay in the inventory until they expire but have left `renewals`:
      // skip them, reading a few pages at most (they are few next to the rest).
      for (let page = 0; page < MAX_PAGES && found.length < limit; page++) {
        const start = page * limit;
        const rows = await redis.zrange(keys.inventory, start, start + limit - 1, 'WITHSCORES');
        if (rows.length === 0) break;
        const names = rows.filter((_, i) => i % 2 === 0);
        const scheduled = await redis.zmscore(keys.renewals, ...names);
        names.forEach((name, i) => {
          if (scheduled[i] !== null && found.length < limit) found.push({ name, notAfter: Number(rows[i * 2 + 1]) });
        });
      }
      return found;
    },
    async notAfterOf(names) {
      if (names.length === 0) return [];
      const scores = await redis.zmscore(keys.inventory, ...names);
      return scores.map((score) => (score === null ? null : Number(score)));
    },
    statesOf(names) {
      // One command per name: each name's hash lives in its own slot on a Cluster.
      return Promise.all(names.map(async (name) => ((await redis.hget(keys.nameState(name), 'state')) as IssuanceState | null) ?? null));
    },
    bucketTokens: (key, spec, now) => readTokens(redis, key, spec, now),
    async caPaused(ca) {
      return (await redis.exists(keys.caPause(ca))) === 1;
    },
    async hostnameCounts() {
      const [total, ...each] = await Promise.all([
        redis.zcard(keys.hostnames),
        ...HOSTNAME_INDEX_STATUSES.map((status) => redis.zcard(keys.hostnamesByStatus(status))),
      ]);
      return { total, ...Object.fromEntries(HOSTNAME_INDEX_STATUSES.map((status, i) => [status, each[i] ?? 0])) };
    },
  };
}
