import { z } from 'zod';
import { ConfigError } from './errors.js';
import { field, list, pattern, pemFile, url } from './fields.js';
import { parseEnv, type Parsed } from './env.js';
import { redactUrl } from './redact.js';

/** A `host:port` (an IPv6 address in brackets), as REDIS_SENTINELS and REDIS_CLUSTER_NODES list them. */
export interface HostPort {
  host: string;
  port: number;
}

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

function parseHostPort(text: string): HostPort | null {
  const match = HOST_PORT.exec(text);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65_535) return null;
  return { host: (match[1] ?? match[2]) as string, port };
}

const hostPorts = () =>
  field(
    'a comma-separated list of host:port (e.g. 10.0.0.5:26379,10.0.0.6:26379; an IPv6 address in brackets)',
    list(
      'host:port',
      z.string().refine((item) => parseHostPort(item) !== null),
    ).schema.transform((items) => (items as string[]).map((item) => parseHostPort(item) as HostPort)),
  );

export const redisSpec = {
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  REDIS_SENTINELS: hostPorts().optional(),
  REDIS_SENTINEL_MASTER: pattern(
    'the master name the sentinels monitor (letters, digits, ".", "_", "-")',
    /^[A-Za-z0-9._-]{1,64}$/,
  ).optional(),
  REDIS_CLUSTER_NODES: hostPorts().optional(),
  REDIS_TLS_CA_FILE: pemFile('CERTIFICATE').optional(),
  REDIS_TLS_CERT_FILE: pemFile('CERTIFICATE').optional(),
  REDIS_TLS_KEY_FILE: pemFile('PRIVATE KEY').optional(),
};

export type RedisTopology =
  | { kind: 'single'; host: string; port: number; db: number }
  | { kind: 'sentinel'; sentinels: HostPort[]; masterName: string }
  | { kind: 'cluster'; nodes: HostPort[] };

/** Where Redis is and how to reach it: one server, a Sentinel-watched master, or a Cluster. */
export interface RedisTarget {
  topology: RedisTopology;
  /** From REDIS_URL's user and password, in every topology (the ACL user of the role). */
  username: string | undefined;
  password: string | undefined;
  /** On with `rediss://`; the CA and client certificate from REDIS_TLS_* (PEM text). */
  tls: { ca: string | undefined; cert: string | undefined; key: string | undefined } | undefined;
  /** Every address a client may connect to (for the edge's route refusals): seeds, sentinels or the server. */
  endpoints: HostPort[];
  /** For logs: the topology and addresses, never a password. */
  description: string;
}

/**
 * Reads the Redis variables. REDIS_URL alone: one server. With REDIS_SENTINELS (and
 * REDIS_SENTINEL_MASTER) or REDIS_CLUSTER_NODES, REDIS_URL gives only the user, the password and
 * the scheme (`rediss:` for TLS); its host is not used.
 */
export function loadRedisTarget(env: NodeJS.ProcessEnv, warnings: string[] = []): RedisTarget {
  return redisTargetOf(parseEnv(redisSpec, env, warnings));
}

/** The target from variables already parsed (a role's spec includes `redisSpec`). */
export function redisTargetOf(e: Parsed<typeof redisSpec>): RedisTarget {
  const redisUrl = e.REDIS_URL;
  if (e.REDIS_SENTINELS && e.REDIS_CLUSTER_NODES) {
    throw new ConfigError(
      'REDIS_CLUSTER_NODES',
      'REDIS_SENTINELS and REDIS_CLUSTER_NODES are both set: a deployment uses one topology, keep one of them',
    );
  }
  if (e.REDIS_SENTINELS && !e.REDIS_SENTINEL_MASTER) {
    throw new ConfigError(
      'REDIS_SENTINEL_MASTER',
      'REDIS_SENTINEL_MASTER is required with REDIS_SENTINELS: set it to the master name the sentinels monitor',
    );
  }
  if (e.REDIS_SENTINEL_MASTER && !e.REDIS_SENTINELS) {
    throw new ConfigError(
      'REDIS_SENTINELS',
      'REDIS_SENTINEL_MASTER is set without REDIS_SENTINELS: list the sentinels as host:port,host:port',
    );
  }
  if (Boolean(e.REDIS_TLS_CERT_FILE) !== Boolean(e.REDIS_TLS_KEY_FILE)) {
    throw new ConfigError(
      'REDIS_TLS_KEY_FILE',
      'REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE go together (a client certificate and its key): set both or neither',
    );
  }
  const secure = redisUrl.protocol === 'rediss:';
  if (!secure && (e.REDIS_TLS_CA_FILE || e.REDIS_TLS_CERT_FILE)) {
    throw new ConfigError('REDIS_URL', 'REDIS_TLS_* files are set but REDIS_URL starts with redis://: use rediss:// to connect over TLS');
  }
  const db = redisUrl.pathname.length > 1 ? Number(redisUrl.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0)
    throw new ConfigError('REDIS_URL', `REDIS_URL's path must be a database number (e.g. /0), got "${redisUrl.pathname}"`);
  const topology: RedisTopology = e.REDIS_SENTINELS
    ? { kind: 'sentinel', sentinels: e.REDIS_SENTINELS, masterName: e.REDIS_SENTINEL_MASTER as string }
    : e.REDIS_CLUSTER_NODES
      ? { kind: 'cluster', nodes: e.REDIS_CLUSTER_NODES }
      : { kind: 'single', host: redisUrl.hostname.replace(/^\[|\]$/g, ''), port: Number(redisUrl.port || 6379), db };
  if (topology.kind === 'cluster' && db !== 0)
    throw new ConfigError('REDIS_URL', 'Redis Cluster has only database 0: remove the database number from REDIS_URL');
  const endpoints =
    topology.kind === 'single'
      ? [{ host: topology.host, port: topology.port }]
      : topology.kind === 'sentinel'
        ? topology.sentinels
        : topology.nodes;
  const list = endpoints.map((p) => (p.host.includes(':') ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`)).join(',');
  const description =
    topology.kind === 'single'
      ? redactUrl(redisUrl.href)
      : topology.kind === 'sentinel'
        ? `sentinel master "${topology.masterName}" via ${list}${secure ? ' (TLS)' : ''}`
        : `cluster via ${list}${secure ? ' (TLS)' : ''}`;
  return {
    topology,
    username: redisUrl.username ? decodeURIComponent(redisUrl.username) : undefined,
    password: redisUrl.password ? decodeURIComponent(redisUrl.password) : undefined,
    tls: secure ? { ca: e.REDIS_TLS_CA_FILE?.pem, cert: e.REDIS_TLS_CERT_FILE?.pem, key: e.REDIS_TLS_KEY_FILE?.pem } : undefined,
    endpoints,
    description,
  };
}
