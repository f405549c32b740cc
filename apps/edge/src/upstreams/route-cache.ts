import { LRUCache } from 'lru-cache';
import { createSingleflight } from '@certfleet/singleflight';
import { errorMessage, type Logger } from '@certfleet/observability';
import { parseRouteUrl } from '@certfleet/store';

export interface RouteCacheOptions {
  /** The fleet's route for a name (a URL), or null: one Redis GET. */
  fetch: (name: string) => Promise<string | null>;
  /**
   * How long an answer is used without asking Redis again. Pub/sub drops an entry at once when
   * its route changes; this bounds how long a lost message (pub/sub is at-most-once) can last.
   */
  ttlMs: number;
  /** Names remembered, with or without a route; least recently used go first. */
  max: number;
  logger: Logger;
  clock?: () => number;
}

interface Entry {
  url: string | null;
  fetchedAt: number;
  /** A stored route that is not usable (already logged), so a refetch does not log it again. */
  ignored?: string;
}

/**
 * Per-name upstream overrides for the request path, kept in memory: a name's first request
 * asks Redis once, later ones are answered from memory. An entry older than `ttlMs` is still
 * used while it is fetched again in the background (so no request waits on Redis for a name
 * it has seen), and kept when Redis cannot answer.
 *
 * A stored URL that `certfleet routes set` would refuse (credentials, a query, not http(s):
 * written to Redis by something else) is ignored, logged once: the name goes to UPSTREAM_URL.
 */
export function createRouteCache(options: RouteCacheOptions) {
  const clock = options.clock ?? Date.now;
  const entries = new LRUCache<string, Entry>({ max: options.max });
  const loads = createSingleflight<string, string | null>();
  let failing = false;

  /** The route to use for `url` as stored: itself, or null when it is not usable. */
  const usable = (name: string, url: string | null): Pick<Entry, 'url' | 'ignored'> => {
    if (url === null) return { url };
    try {
      parseRouteUrl(url);
      return { url };
    } catch (error) {
      if (entries.get(name)?.ignored !== url) {
        options.logger.warn(
          { name, err: errorMessage(error) },
          'route ignored: its URL is not usable; the name goes to the default upstream',
        );
      }
      return { url: null, ignored: url };
    }
  };

  const load = (name: string): Promise<string | null> =>
    loads.run(name, async (flight) => {
      try {
        const entry = { ...usable(name, await options.fetch(name)), fetchedAt: clock() };
        // A load the route changed under may have read the old route: answer its callers, keep nothing.
        if (!flight.forgotten) entries.set(name, entry);
        failing = false;
        return entry.url;
      } catch (error) {
        if (!failing)
          options.logger.warn({ err: errorMessage(error) }, 'route lookup failed; using what is known, else the default upstream');
        failing = true;
        return entries.get(name)?.url ?? null;
      }
    });

  return {
    /**
     * The name's route URL, or null for the default upstream. Waits on Redis only for a name not
     * seen yet, and not while Redis is failing (a hung Redis would hold every such request for
     * the command timeout): then the default upstream at once, and a lookup in the background.
     */
    lookup(name: string): string | null | Promise<string | null> {
      const entry = entries.get(name);
      if (!entry && failing) {
        void load(name);
        return null;
      }
      if (!entry) return load(name);
      if (clock() - entry.fetchedAt >= options.ttlMs) void load(name);
      return entry.url;
    },
    /** The route of `name` changed: forget it, so the next request asks Redis. */
    invalidate(name: string): void {
      entries.delete(name);
      loads.forget(name);
    },
    /** Messages may have been lost (the subscription reconnected): forget everything. */
    clear(): void {
      entries.clear();
      loads.forgetAll();
    },
  };
}
