import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

/**
 * The names an operator allowed, as a Redis set of entries: an exact name (`shop.example`), or
 * `*.suffix` (`*.customers.example.net`), which covers every name below the suffix at any depth
 * but not the suffix itself. Entries are normalised by the caller.
 */
export interface AllowlistStore {
  add(entries: readonly string[]): Promise<number>;
  remove(entries: readonly string[]): Promise<number>;
  /** The entry that covers `name` (the exact name first, then the nearest suffix), or null. */
  match(name: string): Promise<string | null>;
  list(): Promise<string[]>;
}

/** The entries that would cover `name`, most specific first: the name, then `*.` + each parent. */
export function coveringEntries(name: string): string[] {
  const labels = name.split('.');
  const entries = [name];
  for (let i = 1; i < labels.length - 1; i += 1) entries.push(`*.${labels.slice(i).join('.')}`);
  return entries;
}

export function createAllowlistStore(redis: RedisClient, keys: RedisKeys): AllowlistStore {
  return {
    add: async (entries) => (entries.length ? redis.sadd(keys.allowlist, ...entries) : 0),
    remove: async (entries) => (entries.length ? redis.srem(keys.allowlist, ...entries) : 0),
    async match(name) {
      const candidates = coveringEntries(name);
      // One round trip whatever the depth of the name.
      const found = await redis.smismember(keys.allowlist, ...candidates);
      const index = found.indexOf(1);
      return index === -1 ? null : (candidates[index] ?? null);
    },
    list: async () => (await redis.smembers(keys.allowlist)).sort(),
  };
}
