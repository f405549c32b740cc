import { createUpstreamPool, type UpstreamPool, type UpstreamPoolOptions } from './pool.js';

/** What every pool shares; each pool's URL is its own. */
export type UpstreamPoolsOptions = Omit<UpstreamPoolOptions, 'url'>;

// A route's pool nobody used for this long stops re-resolving and is dropped (routes come and go).
const UNUSED_POOL_MS = 10 * 60_000;

/**
 * One UpstreamPool per upstream origin (scheme, host, port), shared by every name routed there,
 * created on first use and dropped after ten unused minutes; the default upstream's is kept.
 */
export function createUpstreamPools(defaultUrl: URL, options: UpstreamPoolsOptions) {
  const clock = options.clock ?? Date.now;
  const pools = new Map<string, { pool: UpstreamPool; usedAt: number }>();
  const keyOf = (url: URL) => `${url.protocol}//${url.host}`;

  const get = (url: URL): UpstreamPool => {
    const key = keyOf(url);
    let entry = pools.get(key);
    if (!entry) {
      const pool = createUpstreamPool({ ...options, url: new URL(key) });
      pool.start();
      entry = { pool, usedAt: clock() };
      pools.set(key, entry);
    }
    entry.usedAt = clock();
    return entry.pool;
  };
  const defaultKey = keyOf(defaultUrl);
  get(defaultUrl);

  const sweeper = setInterval(() => {
    const now = clock();
    for (const [key, entry] of pools) {
      if (key !== defaultKey && now - entry.usedAt > UNUSED_POOL_MS) {
        entry.pool.stop();
        pools.delete(key);
      }
    }
  }, 60_000);
  sweeper.unref();

  return {
    /** The pool for `url`'s origin, started on first use. */
    get,
    close() {
      clearInterval(sweeper);
      for (const entry of pools.values()) entry.pool.stop();
      pools.clear();
    },
  };
}

export type UpstreamPools = ReturnType<typeof createUpstreamPools>;
