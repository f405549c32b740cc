import { createUpstreamPool, type UpstreamPool, type UpstreamPoolOptions } from './pool.js';

/**
 * What every pool shares; each pool's URL is its own. `addressPolicy` (from
 * createRouteAddressPolicy) filters the addresses of every pool but the default upstream's.
 */
export type UpstreamPoolsOptions = Omit<UpstreamPoolOptions, 'url'>;

// A route's pool nobody used for this long stops re-resolving and is dropped (routes come and go).
const UNUSED_POOL_MS = 10 * 60_000;

/**
 * One UpstreamPool per upstream origin (scheme, host, port), shared by every name routed there,
 * created on first use and dropped after ten unused minutes; the default upstream's is kept.
 *
 * Route pools dial only what `addressPolicy` allows. The default upstream's pool is not
 * filtered: UPSTREAM_URL is the operator's. A route to that same origin shares it, and so
 * reaches nothing a name without a route does not.
 */
export function createUpstreamPools(defaultUrl: URL, options: UpstreamPoolsOptions) {
  const clock = options.clock ?? Date.now;
  const pools = new Map<string, { pool: UpstreamPool; usedAt: number }>();
  // Asked on every request: a URL object's key is built once (route URLs are parsed once, in proxy.ts).
  const keys = new WeakMap<URL, string>();
  const keyOf = (url: URL) => {
    let key = keys.get(url);
    if (key === undefined) {
      key = `${url.protocol}//${url.host}`;
      keys.set(url, key);
    }
    return key;
  };
  const defaultKey = keyOf(defaultUrl);
  const { addressPolicy, ...shared } = options;

  const get = (url: URL): UpstreamPool => {
    const key = keyOf(url);
    let entry = pools.get(key);
    if (!entry) {
      const pool = createUpstreamPool({ ...shared, url: new URL(key), ...(key === defaultKey ? {} : { addressPolicy }) });
      pool.start();
      entry = { pool, usedAt: clock() };
      pools.set(key, entry);
    }
    entry.usedAt = clock();
    return entry.pool;
  };
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
