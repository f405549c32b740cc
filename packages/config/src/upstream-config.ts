import { z } from 'zod';
import { parseNetwork } from './address-policy.js';
import { parseEnv, variableNamesOf } from './env.js';
import { duration, int, list, pattern } from './fields.js';
import { dnsServers, toDnsServers } from './dns-servers.js';

const network = z.string().refine((text) => parseNetwork(text) !== undefined);

const spec = {
  UPSTREAM_RESOLVE_INTERVAL: duration(1_000, 3_600_000).default('15s'),
  UPSTREAM_MAX_IPS: int(1, 64, 'addresses').default('3'),
  UPSTREAM_DNS_SERVERS: dnsServers().optional(),
  UPSTREAM_ALLOWED_NETWORKS: list('networks written ADDRESS/PREFIX, e.g. 10.0.0.0/8 or fd00::/8 (or a single address)', network).optional(),
  UPSTREAM_FAIL_TIMEOUT: duration(100, 3_600_000).default('10s'),
  UPSTREAM_CONNECT_TIMEOUT: duration(50, 300_000).default('5s'),
  UPSTREAM_HEADER_TIMEOUT: duration(100, 3_600_000).default('60s'),
  UPSTREAM_IDLE_TIMEOUT: duration(100, 3_600_000).default('60s'),
  UPSTREAM_MAX_SOCKETS: int(1, 100_000, 'connections').default('256'),
  UPSTREAM_QUEUE_TIMEOUT: duration(1, 600_000).default('10s'),
  EDGE_HSTS: pattern(
    'a Strict-Transport-Security value such as "max-age=31536000; includeSubDomains" (max-age first, then includeSubDomains and/or preload)',
    /^max-age=\d{1,10}(\s*;\s*(includeSubDomains|preload))*$/i,
  ).optional(),
};

/** The variables this module reads (see unknown-variables.ts). */
export const UPSTREAM_VARIABLES: readonly string[] = variableNamesOf(spec);

/** How the edge reaches upstreams: re-resolution, setting failed addresses aside, timeouts. */
export interface UpstreamConfig {
  /** How often an upstream's host name is resolved again (DNS TTLs are not waited for). */
  resolveIntervalMs: number;
  /** Addresses kept per upstream (the first ones of the answer), used round robin. */
  maxIps: number;
  /** DNS servers asked for upstream host names; undefined = the system resolver (getaddrinfo, /etc/hosts). */
  dnsServers: { host: string; port: number }[] | undefined;
  /**
   * Networks (ADDRESS/PREFIX, as written) a route may reach although they are loopback, private,
   * link-local... or hold the fleet's Redis; empty = none. Cloud metadata addresses stay refused.
   * UPSTREAM_URL is the operator's own and is not filtered.
   */
  allowedNetworks: string[];
  /** How long an address that refused or timed out a connection is set aside. */
  failTimeoutMs: number;
  connectTimeoutMs: number;
  /** From the whole request sent to the response's headers. */
  headerTimeoutMs: number;
  /** Longest silence on an upstream connection while a request body, a response or a websocket is in flight; also how long an idle kept-alive connection is kept. */
  idleTimeoutMs: number;
  /** Connections to one upstream address, at most. */
  maxSockets: number;
  /** How long a request waits for one of those connections before the edge answers 504. */
  queueTimeoutMs: number;
  /** Strict-Transport-Security value added to responses for names served with a real certificate; undefined = off. */
  hsts: string | undefined;
}

export function loadUpstreamConfig(env: NodeJS.ProcessEnv, warnings: string[] = []): UpstreamConfig {
  const e = parseEnv(spec, env, warnings);
  return {
    resolveIntervalMs: e.UPSTREAM_RESOLVE_INTERVAL,
    maxIps: e.UPSTREAM_MAX_IPS,
    dnsServers: e.UPSTREAM_DNS_SERVERS && toDnsServers(e.UPSTREAM_DNS_SERVERS),
    allowedNetworks: e.UPSTREAM_ALLOWED_NETWORKS ?? [],
    failTimeoutMs: e.UPSTREAM_FAIL_TIMEOUT,
    connectTimeoutMs: e.UPSTREAM_CONNECT_TIMEOUT,
    headerTimeoutMs: e.UPSTREAM_HEADER_TIMEOUT,
    idleTimeoutMs: e.UPSTREAM_IDLE_TIMEOUT,
    maxSockets: e.UPSTREAM_MAX_SOCKETS,
    queueTimeoutMs: e.UPSTREAM_QUEUE_TIMEOUT,
    hsts: e.EDGE_HSTS?.replace(/\s*;\s*/g, '; '),
  };
}
