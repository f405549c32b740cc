import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

/** Who made a change: the API (a token, by its id) or the CLI (the operator's user). */
export interface AuditEntry {
  at: number;
  actorKind: string;
  /** An API token's id (the first 8 hex digits of its SHA-256), or the CLI's user name: never a secret. */
  actorId: string;
  action: string;
  hostname: string;
  summary: string;
}

/** Entries kept (approximately: MAXLEN ~ lets Redis trim whole nodes, which is much cheaper). */
export const AUDIT_MAXLEN = 100_000;

/** The audit stream: one entry per change to a hostname, newest last, capped at {@link AUDIT_MAXLEN}. */
export interface AuditLog {
  append(entries: readonly AuditEntry[]): Promise<void>;
  /** The newest `count` entries, newest first. */
  recent(count: number): Promise<(AuditEntry & { id: string })[]>;
}

export function createAuditLog(redis: RedisClient, keys: RedisKeys): AuditLog {
  return {
    async append(entries) {
      // One key: a pipeline is legal on a Cluster, and 10,000 entries of a bulk call go in one round trip.
      const pipeline = redis.pipeline();
      for (const entry of entries) {
        pipeline.xadd(
          keys.audit,
          'MAXLEN',
          '~',
          AUDIT_MAXLEN,
          '*',
          'at',
          String(entry.at),
          'actor_kind',
          entry.actorKind,
          'actor_id',
          entry.actorId,
          'action',
          entry.action,
          'hostname',
          entry.hostname,
          'summary',
          entry.summary.slice(0, 500),
        );
      }
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error)?.[0];
      if (failed) throw failed;
    },
    async recent(count) {
      const rows = await redis.xrevrange(keys.audit, '+', '-', 'COUNT', count);
      return rows.map(([id, flat]) => {
        const fields: Record<string, string> = {};
        for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
        return {
          id,
          at: Number(fields.at),
          actorKind: fields.actor_kind ?? '',
          actorId: fields.actor_id ?? '',
          action: fields.action ?? '',
          hostname: fields.hostname ?? '',
          summary: fields.summary ?? '',
        };
      });
    },
  };
}
