import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

/** A certificate in the expiry window. */
export interface ExpiringCertificate {
  name: string;
  notAfter: number;
}

/**
 * What the renewer's `certificate.expiring` scan reads and remembers: the inventory (name ->
 * notAfter) in notAfter order, which certificates were announced (`webhook-expiring-sent`,
 * name -> the notAfter announced: one event per name and notAfter), and where a scan that ran
 * out of its batch goes on (`webhook-expiring-cursor`).
 */
export interface ExpiryWatch {
  /** Where the last scan stopped (a notAfter, ms); undefined when it reached the window's end. */
  cursor(): Promise<number | undefined>;
  setCursor(cursor: number | undefined): Promise<void>;
  /** Certificates with notAfter in (from, to], soonest first, at most `limit`. */
  between(from: number, to: number, limit: number): Promise<ExpiringCertificate[]>;
  /** For each name, the notAfter announced last, or null. */
  announced(names: readonly string[]): Promise<(number | null)[]>;
  markAnnounced(entries: readonly ExpiringCertificate[]): Promise<void>;
  /** Forgets announcements of certificates that expired before `now` (keeps the set as small as the window). */
  forgetExpired(now: number): Promise<void>;
}

export function createExpiryWatch(redis: RedisClient, keys: RedisKeys): ExpiryWatch {
  return {
    async cursor() {
      const value = await redis.get(keys.webhookExpiringCursor);
      return value === null ? undefined : Number(value);
    },
    async setCursor(cursor) {
      if (cursor === undefined) await redis.unlink(keys.webhookExpiringCursor);
      else await redis.set(keys.webhookExpiringCursor, String(cursor));
    },
    async between(from, to, limit) {
      const flat = await redis.zrangebyscore(keys.inventory, `(${from}`, to, 'WITHSCORES', 'LIMIT', 0, limit);
      const out: ExpiringCertificate[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) out.push({ name: flat[i] as string, notAfter: Number(flat[i + 1]) });
      return out;
    },
    async announced(names) {
      if (names.length === 0) return [];
      const scores = await redis.zmscore(keys.webhookExpiringSent, ...names);
      return scores.map((score) => (score === null ? null : Number(score)));
    },
    async markAnnounced(entries) {
      if (entries.length === 0) return;
      await redis.zadd(keys.webhookExpiringSent, ...entries.flatMap((e) => [e.notAfter, e.name]));
    },
    async forgetExpired(now) {
      await redis.zremrangebyscore(keys.webhookExpiringSent, '-inf', `(${now}`);
    },
  };
}
