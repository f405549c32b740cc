import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

/** A certificate entering the expiry window. */
export interface ExpiringCertificate {
  name: string;
  notAfter: number;
}

/**
 * Walks the inventory (name -> notAfter) forward in notAfter order for `certificate.expiring`
 * webhooks, remembering how far it got (`webhook-expiring-edge`): each tick reads only the
 * certificates that entered the window since the last one, so its cost grows with what newly
 * expires, not with the inventory. A renewed certificate has a later notAfter and is met again
 * when that one enters the window: one event per (name, notAfter).
 */
export interface ExpiryWatch {
  /** How far the walk got (a notAfter, ms); undefined before the first walk. */
  edge(): Promise<number | undefined>;
  /** Certificates with notAfter in (from, to], soonest first, at most `limit`. */
  between(from: number, to: number, limit: number): Promise<ExpiringCertificate[]>;
  /** Records that everything up to `edge` was looked at. */
  advance(edge: number): Promise<void>;
}

export function createExpiryWatch(redis: RedisClient, keys: RedisKeys): ExpiryWatch {
  return {
    async edge() {
      const value = await redis.get(keys.webhookExpiringEdge);
      return value === null ? undefined : Number(value);
    },
    async between(from, to, limit) {
      const flat = await redis.zrangebyscore(keys.inventory, `(${from}`, to, 'WITHSCORES', 'LIMIT', 0, limit);
      const out: ExpiringCertificate[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) out.push({ name: flat[i] as string, notAfter: Number(flat[i + 1]) });
      return out;
    },
    async advance(edge) {
      await redis.set(keys.webhookExpiringEdge, String(edge));
    },
  };
}
