import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { createAddressPolicy, redisEndpointOf, type AddressPolicy } from '@certfleet/config';
import { errorMessage, type Logger } from '@certfleet/observability';
import type { ResolveHost } from './pool.js';

export interface RouteAddressPolicyOptions {
  /** UPSTREAM_ALLOWED_NETWORKS (config.upstream.allowedNetworks). */
  allowedNetworks: readonly string[];
  /** REDIS_URL: its host's addresses are refused for routes, its port there always. */
  redisUrl: string;
  logger: Logger;
  /** How Redis's host name is looked up; default: the system resolver, as the Redis client does. */
  resolve?: ResolveHost;
}

const systemResolve: ResolveHost = async (host) => (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/**
 * The address policy of route pools, for createUpstreamPools' `addressPolicy`: Redis's host is
 * looked up once, at start (the edge has just connected to it by that name).
 */
export async function createRouteAddressPolicy(options: RouteAddressPolicyOptions): Promise<AddressPolicy> {
  const { host, port } = redisEndpointOf(options.redisUrl);
  let addresses = isIP(host) !== 0 ? [host] : [];
  if (addresses.length === 0) {
    try {
      addresses = await (options.resolve ?? systemResolve)(host);
    } catch (error) {
      // Not fatal: the special ranges still hold, and a Redis on a private address is among them.
      options.logger.warn(
        { redisHost: host, err: errorMessage(error) },
        "Redis's host could not be resolved: routes are not kept from its addresses",
      );
    }
  }
  options.logger.info({ allowedNetworks: options.allowedNetworks, redisAddresses: addresses }, 'route addresses filtered');
  return createAddressPolicy({ allowedNetworks: options.allowedNetworks, redis: { addresses, port } });
}
