import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Command } from 'commander';
import {
  createAddressPolicy,
  describeRefusal,
  loadCommonConfig,
  loadUpstreamConfig,
  redisAddressesOf,
  type RedisTarget,
  type AddressPolicy,
  type AddressRefusal,
} from '@certfleet/config';
import { InvalidRouteError, parseRouteUrl } from '@certfleet/store';
import { splitNames, table, UsageError, withStore } from './admin.js';

// RFC 6761: localhost and its subdomains are loopback wherever they are resolved.
const LOCALHOST = /^(.+\.)?localhost\.?$/i;

/** What the user is told to do about a refused address. */
function remedy(refusal: AddressRefusal): string {
  if (refusal.allowable) {
    return 'a route may reach such an address only when its network is listed in UPSTREAM_ALLOWED_NETWORKS: if this upstream is yours, list its network there (the edges and this command read it)';
  }
  if (refusal.range === 'redis') return "no route may reach the fleet's Redis on its port: give the upstream's own address";
  return "no route may reach it, whatever UPSTREAM_ALLOWED_NETWORKS says: give the upstream's own address";
}

/**
 * The upstream URL a route may point at: http(s), a host, no credentials, query or fragment
 * (parseRouteUrl), and not an IP address (or localhost) that `policy` refuses: the edges would
 * refuse it too and answer 502. A host name is not resolved here: its addresses are checked by
 * every edge at each resolution, which is where they count.
 */
export function checkRouteUrl(input: string, policy: AddressPolicy): URL {
  let url: URL;
  try {
    url = parseRouteUrl(input);
  } catch (error) {
    if (error instanceof InvalidRouteError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const address = isIP(host) !== 0 ? host : LOCALHOST.test(host) ? '127.0.0.1' : undefined;
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  const refusal = address === undefined ? undefined : policy.refusal(address, port);
  if (refusal) {
    const what = address === host ? describeRefusal(refusal) : `${host} is loopback (${describeRefusal(refusal)})`;
    throw new UsageError(`"${input}" is refused for a route: ${what}; ${remedy(refusal)}`);
  }
  return url;
}

/**
 * The edges' rules for route addresses, from the same environment: UPSTREAM_ALLOWED_NETWORKS,
 * and Redis's addresses from REDIS_URL (looked up as the Redis client does; none if that fails).
 */
async function routeAddressPolicy(env: NodeJS.ProcessEnv, redis: RedisTarget): Promise<AddressPolicy> {
  const systemResolve = async (host: string) => (await lookup(host, { all: true })).map((entry) => entry.address);
  const { addresses, ports } = await redisAddressesOf(redis.endpoints, systemResolve);
  return createAddressPolicy({ allowedNetworks: loadUpstreamConfig(env).allowedNetworks, redis: { addresses, ports } });
}

function checkName(input: string): string {
  const { valid, invalid } = splitNames([input]);
  const name = valid[0];
  if (!name) throw new UsageError(`"${input}" is not a valid domain name: ${invalid[0]?.reason}`);
  return name;
}

/** `certfleet routes …`: per-name upstream overrides, picked up by every edge within a moment. */
export function routesCommand(): Command {
  const routes = new Command('routes').description("per-name upstreams: send a name's traffic somewhere else than UPSTREAM_URL");
  routes
    .command('set')
    .description(
      "send NAME's traffic to URL (http:// or https://); edges follow at once, without a restart. A loopback, private or link-local address needs its network in UPSTREAM_ALLOWED_NETWORKS; metadata addresses are never allowed",
    )
    .argument('<name>')
    .argument('<url>')
    .action(async (input: string, urlInput: string) => {
      const name = checkName(input);
      const common = loadCommonConfig(process.env);
      const url = checkRouteUrl(urlInput, await routeAddressPolicy(process.env, common.redis));
      // Stored as given, minus a lone trailing slash the URL parser adds to a bare origin.
      const stored = url.pathname === '/' && !urlInput.endsWith('/') ? url.href.replace(/\/$/, '') : url.href;
      await withStore(common, (store) => store.routes.set(name, stored));
      process.stdout.write(`${name} -> ${stored}\n`);
    });
  routes
    .command('rm')
    .description("remove NAME's route: its traffic goes to UPSTREAM_URL again")
    .argument('<name>')
    .action(async (input: string) => {
      const name = checkName(input);
      const removed = await withStore(loadCommonConfig(process.env), (store) => store.routes.remove(name));
      if (!removed) throw new UsageError(`${name} has no route: see 'certfleet routes ls'`);
      process.stdout.write(`removed the route of ${name}\n`);
    });
  routes
    .command('ls')
    .description('list routes, by name')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const list = await withStore(loadCommonConfig(process.env), (store) => store.routes.list());
      if (options.json) {
        process.stdout.write(`${JSON.stringify(list)}\n`);
        return;
      }
      if (list.length === 0) return;
      process.stdout.write(`${table([['NAME', 'UPSTREAM'], ...list.map((r) => [r.name, r.url])])}\n`);
    });
  return routes;
}
