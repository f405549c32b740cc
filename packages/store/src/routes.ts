import { subscriberConnection, type RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

/** A route's URL the edge cannot use: the message names it (credentials masked), what is wrong and what to give. */
export class InvalidRouteError extends Error {
  override readonly name = 'InvalidRouteError';
}

/** `text` with whatever stands between `//` and the last `@` masked: a route's URL may carry a password. */
const masked = (text: string) => text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[\s\S]*@/i, '$1***@');

/**
 * A route's upstream URL: http:// or https://, a host, an optional port and path prefix. No
 * credentials (the edge sends none upstream, and a password would travel in logs with the
 * URL), query or fragment (not sent either). Checked when a route is set and again when an edge
 * reads one, since anything with access to Redis can write there. Which addresses the host may
 * be is a separate question (@certfleet/config's address policy).
 */
export function parseRouteUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidRouteError(
      `"${masked(text)}" is not a URL: give the upstream as http://HOST[:PORT][/PATH] or https://HOST[:PORT][/PATH]`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidRouteError(
      `"${masked(text)}" must start with http:// or https:// (got ${url.protocol}//): the edge proxies HTTP only`,
    );
  }
  if (!url.hostname) throw new InvalidRouteError(`"${masked(text)}" has no host: give the upstream's host name or IP address`);
  if (url.username || url.password) {
    throw new InvalidRouteError(
      `"${masked(text)}" must not carry credentials (user:password@): the edge never sends them upstream; give the URL without them (let the upstream trust the edge by its network address instead)`,
    );
  }
  if (url.search || url.hash) {
    throw new InvalidRouteError(
      `"${masked(text)}" must not carry a query or a fragment: give scheme, host, port and an optional path prefix`,
    );
  }
  return url;
}

/** One per-name upstream override: traffic for `name` goes to `url` instead of UPSTREAM_URL. */
export interface Route {
  name: string;
  url: string;
}

/**
 * Per-name upstream overrides, shared by the fleet. Each route is a string under the name's own
 * key (hash tag), listed in one set so `ls` needs no SCAN; every change is published so edges
 * drop their cached answer at once. Names are validated by the caller; `set` refuses a URL that
 * parseRouteUrl refuses (InvalidRouteError), and `get` returns what is stored, unchecked.
 */
export interface RouteStore {
  set(name: string, url: string): Promise<void>;
  /** Whether there was a route to remove. */
  remove(name: string): Promise<boolean>;
  get(name: string): Promise<string | null>;
  /** Every route, sorted by name. */
  list(): Promise<Route[]>;
}

export function createRouteStore(redis: RedisClient, keys: RedisKeys): RouteStore {
  return {
    async set(name, url) {
      parseRouteUrl(url);
      // Separate commands, not MULTI: the route key and the index set live in different Cluster slots.
      await redis.set(keys.route(name), url);
      await redis.sadd(keys.routes, name);
      await redis.publish(keys.routeChanged, name);
    },
    async remove(name) {
      const removed = await redis.del(keys.route(name));
      await redis.srem(keys.routes, name);
      await redis.publish(keys.routeChanged, name);
      return removed > 0;
    },
    get: (name) => redis.get(keys.route(name)),
    async list() {
      const names = (await redis.smembers(keys.routes)).sort();
      if (names.length === 0) return [];
      // One GET per name, sent together: each route is in its name's Cluster slot, so neither
      // MGET nor a pipeline.
      const urls = await Promise.all(names.map((name) => redis.get(keys.route(name))));
      return names.flatMap((name, i) => {
        const url = urls[i];
        return typeof url === 'string' ? [{ name, url }] : [];
      });
    },
  };
}

/**
 * Subscribes to "a name's route changed" on a connection of its own. `onResubscribed` runs after
 * a reconnect: messages sent while the connection was down are lost (pub/sub is at-most-once),
 * so the caller should forget what it cached. Returns a function that unsubscribes and closes.
 */
export async function subscribeRouteChanged(
  redis: RedisClient,
  keys: RedisKeys,
  onChange: (name: string) => void,
  onResubscribed: () => void,
): Promise<() => Promise<void>> {
  const subscriber = subscriberConnection(redis);
  subscriber.on('error', () => undefined);
  subscriber.on('message', (channel: string, name: string) => {
    if (channel === keys.routeChanged) onChange(name);
  });
  let connections = 0;
  subscriber.on('ready', () => {
    connections += 1;
    if (connections > 1) onResubscribed();
  });
  // Waited for only while Redis answers (an edge may start during an outage; see events.ts).
  const subscribed = subscriber.subscribe(keys.routeChanged);
  if (redis.status === 'ready') await subscribed;
  else subscribed.catch(() => undefined);
  return async () => {
    subscriber.disconnect();
  };
}
