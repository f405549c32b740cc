import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

/** A registered hostname's status as the indexes hold it (see {@link indexStatus}). */
export type HostnameIndexStatus = 'pending' | 'active' | 'failed' | 'retired';
export const HOSTNAME_INDEX_STATUSES: readonly HostnameIndexStatus[] = ['pending', 'active', 'failed', 'retired'];

/** What the API and the CLI registered about a hostname (certificates and issuance live elsewhere). */
export interface HostnameRecord {
  name: string;
  customMetadata: Record<string, unknown> | null;
  upstream: string | null;
  createdAt: number;
  updatedAt: number;
  /** Set when the hostname was deleted: it stays listed as retired until purged. */
  deletedAt: number | null;
}

/** What a name's status is decided from, all read in the name's slot in one round trip. */
export interface StatusInputs {
  deleted: boolean;
  /** A certificate is stored (expired or not) and not retired. */
  certificate: boolean;
  /** The name-state's state, if any. */
  state: string | null;
}

/**
 * A name's status for the indexes: deleted → retired; a stored certificate → active; a failed or
 * cooling name-state → failed; otherwise pending. Time plays no part (an index cannot follow the
 * clock): an expired certificate still indexes as active; readers recompute with the clock.
 */
export function indexStatus(inputs: StatusInputs): HostnameIndexStatus {
  if (inputs.deleted) return 'retired';
  if (inputs.certificate) return 'active';
  if (inputs.state === 'failed' || inputs.state === 'cooling') return 'failed';
  return 'pending';
}

/** One page of names in name order: those after `after` (exclusive) that start with `prefix`. */
export interface NamePageQuery {
  after?: string | undefined;
  prefix?: string | undefined;
  status?: HostnameIndexStatus | undefined;
  limit: number;
}

/** A name in the inventory with its certificate's expiry. */
export interface ExpiringName {
  name: string;
  notAfter: number;
}

/**
 * The hostname registry: one hash per name (its slot), a name-ordered set of every registered
 * name, and one name-ordered set per status, so that pages, prefix search and status filters are
 * ZRANGEBYLEX over an index, never a SCAN (1,000,000 names: see bench/hostnames-list.ts).
 * Indexes are single keys in slots of their own: written after the name's hash, command by
 * command (never one MULTI across slots). The status indexes follow the name's state where it
 * changes inside the store (`refreshStatus` after each name-state transition); a reader that needs
 * the exact status recomputes it (a crash between two writes leaves an index one step behind).
 */
export interface HostnameRegistry {
  get(name: string): Promise<HostnameRecord | null>;
  /** One HGETALL per name, sent together (each in its own slot). */
  getMany(names: readonly string[]): Promise<(HostnameRecord | null)[]>;
  /** Writes the records, then indexes them (statuses from each name's certificate and state). */
  putMany(records: readonly HostnameRecord[]): Promise<void>;
  /** Removes the name's record and every index entry. */
  purge(name: string): Promise<void>;
  /** Recomputes the names' statuses from their slots and moves them between status indexes. */
  refreshStatus(names: readonly string[]): Promise<void>;
  page(query: NamePageQuery): Promise<string[]>;
  /**
   * Names in the inventory expiring before `before`, soonest first, after the entry `after`
   * (exclusive), at most `limit` scanned; registered or not (the caller filters).
   */
  expiring(before: number, after: ExpiringName | undefined, limit: number): Promise<ExpiringName[]>;
  /** Which of `names` are registered. */
  registered(names: readonly string[]): Promise<boolean[]>;
  /** Which of `names` the status index holds in `status`. */
  inStatus(status: HostnameIndexStatus, names: readonly string[]): Promise<boolean[]>;
  counts(): Promise<Record<HostnameIndexStatus | 'total', number>>;
}

/** Names per ZADD/ZREM: one command stays well under Redis's argument and buffer limits. */
const INDEX_CHUNK = 1_000;

export function createHostnameRegistry(redis: RedisClient, keys: RedisKeys): HostnameRegistry {
  const byStatus = keys.hostnamesByStatus;

  async function readStatusInputs(name: string): Promise<{ current: string | null; inputs: StatusInputs } | null> {
    // Three keys of the name's slot: one pipeline is legal on a Cluster.
    const results =
      (await redis
        .pipeline()
        .hmget(keys.hostname(name), 'createdAt', 'deletedAt', 'status')
        .hmget(keys.cert(name), 'serial', 'retiredAt')
        .hget(keys.nameState(name), 'state')
        .exec()) ?? [];
    const failed = results.find(([error]) => error)?.[0];
    if (failed) throw failed;
    const [createdAt, deletedAt, status] = (results[0]?.[1] ?? []) as (string | null)[];
    if (!createdAt) return null;
    const [serial, retiredAt] = (results[1]?.[1] ?? []) as (string | null)[];
    const state = (results[2]?.[1] ?? null) as string | null;
    return { current: status ?? null, inputs: { deleted: !!deletedAt, certificate: !!serial && !retiredAt, state } };
  }

  async function moveToStatus(moves: readonly { name: string; status: HostnameIndexStatus }[]): Promise<void> {
    if (moves.length === 0) return;
    // The name's hash first (its slot), then the indexes (one slot each), chunked.
    await Promise.all(moves.map(({ name, status }) => redis.hset(keys.hostname(name), 'status', status)));
    const commands: Promise<unknown>[] = [];
    for (const status of HOSTNAME_INDEX_STATUSES) {
      const into = moves.filter((move) => move.status === status).map((move) => move.name);
      const out = moves.filter((move) => move.status !== status).map((move) => move.name);
      for (const chunk of chunks(into)) commands.push(redis.zadd(byStatus(status), ...chunk.flatMap((name) => [0, name])));
      for (const chunk of chunks(out)) commands.push(redis.zrem(byStatus(status), ...chunk));
    }
    await Promise.all(commands);
  }

  async function refreshStatus(names: readonly string[]): Promise<void> {
    const read = await Promise.all(names.map(readStatusInputs));
    const moves = names.flatMap((name, i) => {
      const found = read[i];
      if (!found) return [];
      const status = indexStatus(found.inputs);
      return found.current === status ? [] : [{ name, status }];
    });
    await moveToStatus(moves);
  }

  return {
    async get(name) {
      return recordOf(name, await redis.hgetall(keys.hostname(name)));
    },
    async getMany(names) {
      const hashes = await Promise.all(names.map((name) => redis.hgetall(keys.hostname(name))));
      return names.map((name, i) => recordOf(name, hashes[i] ?? {}));
    },
    async putMany(records) {
      if (records.length === 0) return;
      await Promise.all(
        records.map((record) => {
          const key = keys.hostname(record.name);
          const fields: Record<string, string> = { createdAt: String(record.createdAt), updatedAt: String(record.updatedAt) };
          const absent: string[] = [];
          if (record.customMetadata) fields.metadata = JSON.stringify(record.customMetadata);
          else absent.push('metadata');
          if (record.upstream) fields.upstream = record.upstream;
          else absent.push('upstream');
          if (record.deletedAt) fields.deletedAt = String(record.deletedAt);
          else absent.push('deletedAt');
          // One name's hash: a MULTI in its slot keeps the record whole.
          return redis
            .multi()
            .hset(key, fields)
            .hdel(key, ...absent)
            .exec();
        }),
      );
      await Promise.all(
        chunks(records.map((record) => record.name)).map((chunk) => redis.zadd(keys.hostnames, ...chunk.flatMap((name) => [0, name]))),
      );
      await refreshStatus(records.map((record) => record.name));
    },
    async purge(name) {
      await redis.del(keys.hostname(name));
      await Promise.all([redis.zrem(keys.hostnames, name), ...HOSTNAME_INDEX_STATUSES.map((status) => redis.zrem(byStatus(status), name))]);
    },
    refreshStatus,
    async page(query) {
      const key = query.status ? byStatus(query.status) : keys.hostnames;
      // Lex ranges: `(x` excludes x, `[x` includes it; every name is ASCII (punycode), so
      // "\x7f" sorts after any name that starts with the prefix.
      const fromCursor = query.after === undefined ? null : `(${query.after}`;
      const fromPrefix = query.prefix ? `[${query.prefix}` : null;
      const min = fromCursor && fromPrefix ? (query.after! >= query.prefix! ? fromCursor : fromPrefix) : (fromCursor ?? fromPrefix ?? '-');
      const max = query.prefix ? `[${query.prefix}\x7f` : '+';
      return redis.zrangebylex(key, min, max, 'LIMIT', 0, query.limit);
    },
    async expiring(before, after, limit) {
      let flat: string[];
      const rank = after ? await redis.zrank(keys.inventory, after.name) : null;
      const score = after && rank !== null ? await redis.zscore(keys.inventory, after.name) : null;
      if (after && rank !== null && score !== null && Number(score) === after.notAfter) {
        flat = await redis.zrange(keys.inventory, rank + 1, rank + limit, 'WITHSCORES');
      } else {
        // The cursor's name left the inventory (or was renewed): go on from its score.
        const min = after ? `(${after.notAfter}` : '-inf';
        flat = await redis.zrangebyscore(keys.inventory, min, `(${before}`, 'WITHSCORES', 'LIMIT', 0, limit);
      }
      const entries: ExpiringName[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const notAfter = Number(flat[i + 1]);
        if (notAfter >= before) break;
        entries.push({ name: flat[i] as string, notAfter });
      }
      return entries;
    },
    async registered(names) {
      if (names.length === 0) return [];
      return (await redis.zmscore(keys.hostnames, ...names)).map((score) => score !== null);
    },
    async inStatus(status, names) {
      if (names.length === 0) return [];
      return (await redis.zmscore(byStatus(status), ...names)).map((score) => score !== null);
    },
    async counts() {
      const [total, ...each] = await Promise.all([
        redis.zcard(keys.hostnames),
        ...HOSTNAME_INDEX_STATUSES.map((status) => redis.zcard(byStatus(status))),
      ]);
      return {
        total: total ?? 0,
        ...Object.fromEntries(HOSTNAME_INDEX_STATUSES.map((status, i) => [status, each[i] ?? 0])),
      } as Record<HostnameIndexStatus | 'total', number>;
    },
  };
}

function recordOf(name: string, hash: Record<string, string>): HostnameRecord | null {
  if (!hash.createdAt) return null;
  return {
    name,
    customMetadata: hash.metadata ? (JSON.parse(hash.metadata) as Record<string, unknown>) : null,
    upstream: hash.upstream || null,
    createdAt: Number(hash.createdAt),
    updatedAt: Number(hash.updatedAt ?? hash.createdAt),
    deletedAt: hash.deletedAt ? Number(hash.deletedAt) : null,
  };
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += INDEX_CHUNK) out.push(items.slice(i, i + INDEX_CHUNK));
  return out;
}
