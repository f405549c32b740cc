import { lookup } from 'node:dns/promises';
import { createAddressPolicy, redisAddressesOf, type AddressPolicy, type HostPort } from '@certfleet/config';
import { errorMessage, type Logger } from '@certfleet/observability';
import type { ResolveHost } from './pool.js';

export interface RouteAddressPolicyOptions {
  /** UPSTREAM_ALLOWED_NETWORKS (config.upstream.allowedNetworks). */
  allowedNetworks: readonly string[];
  /** Every Redis endpoint (the server, the sentinels or the cluster seeds): their addresses are refused for routes, their ports there always. */
  redisEndpoints: readonly HostPort[];
  logger: Logger;
  /** How Redis's host name is looked up; default: the system resolver, as the Redis client does. */
  resolve?: ResolveHost;
}

const systemResolve: ResolveHost = async (host) => (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/**
 * The address policy of route pools, for createUpstreamPools' `addressPolicy`: Redis's hosts are
 * looked up once, at start (the edge has just connected to them by those names).
 */
export async function createRouteAddressPolicy(options: RouteAddressPolicyOptions): Promise<AddressPolicy> {
  const { addresses, ports, unresolved } = await redisAddressesOf(options.redisEndpoints, options.resolve ?? systemResolve);
  for (const { host, error } of unresolved) {
    // Not fatal: the special ranges still hold, and a Redis on a private address is among them.
    options.logger.warn(
      { redisHost: host, err: errorMessage(error) },
      'a Redis host could not be resolved: routes are not kept from its addresses',
    );
  }
  options.logger.info({ allowedNetworks: options.allowedNetworks, redisAddresses: addresses }, 'route addresses filtered');
  return createAddressPolicy({ allowedNetworks: options.allowedNetworks, redis: { addresses, ports } });
}
