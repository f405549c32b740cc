import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './connect.js';
import { createHostnameFactsReader, type HostnameFacts, recordOf } from './hostname-facts.js';
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
  /** What each name's hostname object is made of, read in a few round trips for a whole page (see hostname-facts.ts). */
  facts(names: readonly string[], now: number): Promise<HostnameFacts[]>;
}

/** Names per ZADD/ZREM: one command stays well under Redis's argument and buffer limits. */
const INDEX_CHUNK = 1_000;

export function createHostnameRegistry(redis: RedisClient, keys: RedisKeys): HostnameRegistry {
  const byStatus = keys.hostnamesByStatus;

  /**
   * Commands of each name's own slot, for many names: on a Cluster one MULTI (or pipeline) per
   * name, sent together; on one server one per 1,000 names (10,000 names are ten round trips,
   * not 10,000). Returns each name's replies.
   */
  async function perName(
    names: readonly string[],
    atomic: boolean,
    build: (batch: ChainableCommander, name: string) => ChainableCommander,
  ): Promise<unknown[][]> {
    const start = () => (atomic ? redis.multi() : redis.pipeline());
    const unwrap = (results: [Error | null, unknown][] | null) =>
      (results ?? []).map(([error, value]) => {
        if (error) throw error;
        return value;
      });
    if (redis.isCluster) return Promise.all(names.map(async (name) => unwrap(await build(start(), name).exec())));
    const out: unknown[][] = [];
    for (let i = 0; i < names.length; i += INDEX_CHUNK) {
      const chunk = names.slice(i, i + INDEX_CHUNK);
      const batch = start();
      const sizes = chunk.map((name) => {
        const before = lengthOf(batch);
        build(batch, name);
        return lengthOf(batch) - before;
      });
      const flat = unwrap(await batch.exec());
      let offset = 0;
      for (const size of sizes) {
        out.push(flat.slice(offset, offset + size));
        offset += size;
      }
    }
    return out;
  }

  async function readStatusInputs(names: readonly string[]): Promise<({ current: string | null; inputs: StatusInputs } | null)[]> {
    // Three keys of the name's slot.
    const replies = await perName(names, false, (batch, name) =>
      batch
        .hmget(keys.hostname(name), 'createdAt', 'deletedAt', 'status')
        .hmget(keys.cert(name), 'serial', 'retiredAt')
        .hget(keys.nameState(name), 'state'),
    );
    return replies.map(([hostname, cert, state]) => {
      const [createdAt, deletedAt, status] = (hostname ?? []) as (string | null)[];
      if (!createdAt) return null;
      const [serial, retiredAt] = (cert ?? []) as (string | null)[];
      return {
        current: status ?? null,
        inputs: { deleted: !!deletedAt, certificate: !!serial && !retiredAt, state: (state ?? null) as string | null },
      };
    });
  }

  async function moveToStatus(moves: readonly { name: string; status: HostnameIndexStatus }[]): Promise<void> {
    if (moves.length === 0) return;
    // The name's hash first (its slot), then the indexes (one slot each), chunked.
    const statusOf = new Map(moves.map((move) => [move.name, move.status]));
    await perName([...statusOf.keys()], false, (batch, name) => batch.hset(keys.hostname(name), 'status', statusOf.get(name) ?? ''));
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
    const read = await readStatusInputs(names);
    const moves = names.flatMap((name, i) => {
      const found = read[i];
      if (!found) return [];
      const status = indexStatus(found.inputs);
      return found.current === status ? [] : [{ name, status }];
    });
    await moveToStatus(moves);
  }

  return {
    facts: createHostnameFactsReader(redis, keys),
    async get(name) {
      return recordOf(name, await redis.hgetall(keys.hostname(name)));
    },
    async getMany(names) {
      const replies = await perName(names, false, (batch, name) => batch.hgetall(keys.hostname(name)));
      return names.map((name, i) => recordOf(name, (replies[i]?.[0] ?? {}) as Record<string, string>));
    },
    async putMany(records) {
      if (records.length === 0) return;
      const byName = new Map(records.map((record) => [record.name, record]));
      // One name's hash: a MULTI keeps each record whole.
      await perName([...byName.keys()], true, (batch, name) => {
        const record = byName.get(name) as HostnameRecord;
        const key = keys.hostname(name);
        const fields: Record<string, string> = { createdAt: String(record.createdAt), updatedAt: String(record.updatedAt) };
        const absent: string[] = [];
        if (record.customMetadata) fields.metadata = JSON.stringify(record.customMetadata);
        else absent.push('metadata');
        if (record.upstream) fields.upstream = record.upstream;
        else absent.push('upstream');
        if (record.deletedAt) fields.deletedAt = String(record.deletedAt);
        else absent.push('deletedAt');
        return batch.hset(key, fields).hdel(key, ...absent);
      });
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

/** Commands queued so far in a pipeline or MULTI (ioredis's Pipeline has `length`; its type does not say so). */
const lengthOf = (batch: ChainableCommander) => (batch as unknown as { length: number }).length;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += INDEX_CHUNK) out.push(items.slice(i, i + INDEX_CHUNK));
  return out;
}
