import type { ExpiringName, HostnameIndexStatus } from '@certfleet/store';
import type { HostnamePage, ListOptions } from './contract.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { type DescribeStore, describeFrom } from './describe.js';
import { InvalidInputError } from './errors.js';
import { prefixQuery } from './names.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './schema.js';
import type { HostnameObject } from './schema.js';

/** An expiry listing reads at most this many pages' worth of the inventory per call, filtering. */
const EXPIRY_SCAN_PAGES = 10;

/**
 * One page of registered hostnames, in name order from the registry's indexes (`q` and
 * `status` are index ranges), or soonest expiry first from the inventory when
 * `expiring_before` is set (then `q` and `status` filter what is read, and a page may come back
 * shorter than `limit` with a cursor to go on). Each object is described afresh, and one whose
 * status left the index's (the index is one step behind, or the clock moved) is left out.
 */
export async function listHostnames(store: DescribeStore, options: ListOptions, now: number): Promise<HostnamePage> {
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new InvalidInputError('limit', `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${String(options.limit)}`);
  }
  const prefix = options.q === undefined || options.q === '' ? undefined : prefixQuery(options.q);
  const status = options.status as HostnameIndexStatus | undefined;
  if (options.expiring_before !== undefined) {
    return byExpiry(store, { before: options.expiring_before, prefix, status, limit, cursor: options.cursor }, now);
  }
  const after = options.cursor ? decodeCursor(options.cursor, 'name').after : undefined;
  const names = await store.hostnames.page({ after, prefix, status, limit });
  const hostnames = await describeAll(store, names, now);
  const last = names[names.length - 1];
  return {
    hostnames: hostnames.filter((object) => !status || object.status === status),
    next_cursor: names.length === limit && last ? encodeCursor({ k: 'name', after: last }) : null,
  };
}

async function byExpiry(
  store: DescribeStore,
  query: { before: number; prefix: string | undefined; status: HostnameIndexStatus | undefined; limit: number; cursor: string | undefined },
  now: number,
): Promise<HostnamePage> {
  let after: ExpiringName | undefined;
  if (query.cursor) {
    const cursor = decodeCursor(query.cursor, 'expiry');
    after = { name: cursor.name, notAfter: cursor.notAfter };
  }
  const found: string[] = [];
  let exhausted = false;
  for (let page = 0; page < EXPIRY_SCAN_PAGES && found.length < query.limit; page += 1) {
    const entries = await store.hostnames.expiring(query.before, after, query.limit);
    if (entries.length < query.limit) exhausted = true;
    const candidates = entries.filter((entry) => !query.prefix || entry.name.startsWith(query.prefix));
    const registered = await store.hostnames.registered(candidates.map((entry) => entry.name));
    for (const [i, entry] of candidates.entries()) {
      if (registered[i] && found.length < query.limit) found.push(entry.name);
    }
    // The cursor is the last entry looked at, kept or not, so the next call goes on from there.
    const lastKept = found.length === query.limit ? entries.find((entry) => entry.name === found[found.length - 1]) : undefined;
    after = lastKept ?? entries[entries.length - 1] ?? after;
    // A page filled before the end of what was read: what follows is still to be listed.
    if (lastKept && lastKept !== entries[entries.length - 1]) exhausted = false;
    if (exhausted || lastKept) break;
  }
  const hostnames = (await describeAll(store, found, now)).filter((object) => !query.status || object.status === query.status);
  return {
    hostnames,
    next_cursor: !exhausted && after ? encodeCursor({ k: 'expiry', name: after.name, notAfter: after.notAfter }) : null,
  };
}

async function describeAll(store: DescribeStore, names: readonly string[], now: number): Promise<HostnameObject[]> {
  const facts = await store.hostnames.facts(names, now);
  return facts.flatMap((fact) => {
    const object = describeFrom(fact, now);
    return object ? [object] : [];
  });
}
