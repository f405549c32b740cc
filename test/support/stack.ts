import type { Keyring } from '@certfleet/sealing';
import { keyringOf, newKeyLine, writeKeyFile } from './at-rest-keys.js';
import { startRole, edgePorts, edgeEnv, newPrefix, type EdgePorts } from './certfleet.js';
import { startAcmeProxy, type AcmeProxy } from './acme-proxy.js';
import { startPebble, type Pebble, type PebbleOptions } from './pebble.js';
import type { Proc } from './processes.js';
import { startRedis, type RedisServer } from './redis.js';
import { startRedisCluster, startSentinelTopology, type RedisClusterTopology, type SentinelTopology } from './redis-topologies.js';
import { startUpstream, type Upstream } from './upstream.js';

export interface StackOptions {
  edges?: number;
  issuers?: number;
  renewer?: boolean;
  /** Certificate lifetime Pebble gives, in seconds. */
  validitySeconds?: number;
  /** Redis keeps an append-only file, so it can be restarted without losing data. */
  persistentRedis?: boolean;
  /**
   * The Redis the roles use: one server (the default), a Sentinel group (a master, a replica,
   * three sentinels) or a Cluster of three masters. `stack.redis` is the single server only.
   */
  topology?: 'single' | 'sentinel' | 'cluster';
  /**
   * A Redis the test started itself (TLS-only, with an ACL file, ...): its REDIS_URL, and no
   * redis-server of the stack's own. Its TLS files and users go in `env`.
   */
  externalRedisUrl?: string;
  /** The deployment's key prefix (default: a fresh random one), e.g. for an ACL file written for it. */
  prefix?: string;
  /** Environment for one role only, over `env` (e.g. each role's own Redis user in REDIS_URL). */
  roleEnv?: Partial<Record<'edge' | 'issuer' | 'renewer', NodeJS.ProcessEnv>>;
  /** Put the fault-injecting ACME proxy between the issuers and Pebble. */
  proxy?: boolean;
  /** More Pebble options (environment, EAB). */
  pebble?: Partial<PebbleOptions>;
  /** Runs after Pebble (and the proxy) start and before any role: e.g. to start a second CA. */
  beforeRoles?: (parts: { pebble: Pebble; proxy: AcmeProxy | undefined; edgePorts: EdgePorts[] }) => Promise<void>;
  /** Environment for every role; a function gets Pebble first (for its DNS address). */
  env?: NodeJS.ProcessEnv | ((pebble: Pebble) => NodeJS.ProcessEnv);
}

export interface Stack {
  /** The single server (topology 'single' only: reading it in another topology throws). */
  redis: RedisServer;
  sentinel: SentinelTopology | undefined;
  cluster: RedisClusterTopology | undefined;
  pebble: Pebble;
  /** The fault-injecting proxy in front of Pebble, when asked for. */
  proxy: AcmeProxy | undefined;
  upstream: Upstream;
  prefix: string;
  /** Environment shared by the roles and the CLI (Redis, prefix, ACME). */
  env: NodeJS.ProcessEnv;
  edges: { proc: Proc; ports: EdgePorts }[];
  issuers: Proc[];
  renewer: Proc | undefined;
  /** Pebble's root of this run. */
  rootPem: string;
  /** The at-rest key file every role reads (CERTFLEET_KEK_FILE), made for this stack unless `env` names one. */
  kekFile: string;
  /** The roles' keyring, for a test's own store beside them: `createStore(redis, stack.prefix, { keyring: stack.keyring })`. */
  keyring: Keyring;
  stop(): Promise<void>;
}

/**
 * A whole certfleet deployment on loopback, as real processes: redis-server, Pebble with
 * challtestsrv, a sample upstream, N edges (Pebble validates against the first), N issuers and
 * optionally a renewer.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const edgeCount = options.edges ?? 1;
  const topology = options.topology ?? 'single';
  const [redis, sentinel, cluster, upstream, ports] = await Promise.all([
    topology === 'single' && !options.externalRedisUrl ? startRedis('redis', { persistent: options.persistentRedis ?? false }) : undefined,
    topology === 'sentinel' ? startSentinelTopology() : undefined,
    topology === 'cluster' ? startRedisCluster() : undefined,
    startUpstream(),
    Promise.all(Array.from({ length: edgeCount }, () => edgePorts())),
  ]);
  const first = ports[0];
  if (!first) throw new Error('a stack needs at least one edge');
  const pebble = await startPebble({
    httpPort: first.httpPort,
    tlsPort: first.httpsPort,
    ...(options.validitySeconds ? { validitySeconds: options.validitySeconds } : {}),
    ...options.pebble,
  });
  const proxy = options.proxy ? await startAcmeProxy(pebble) : undefined;
  await options.beforeRoles?.({ pebble, proxy, edgePorts: ports });
  const prefix = options.prefix ?? newPrefix();
  const env: NodeJS.ProcessEnv = {
    // Each stack seals under a key of its own, as a deployment would.
    CERTFLEET_KEK_FILE: writeKeyFile([newKeyLine()]),
    ...(redis ? { REDIS_URL: redis.url } : {}),
    ...(options.externalRedisUrl ? { REDIS_URL: options.externalRedisUrl } : {}),
    ...(sentinel ? { REDIS_SENTINELS: sentinel.sentinels.join(','), REDIS_SENTINEL_MASTER: sentinel.masterName } : {}),
    ...(cluster ? { REDIS_CLUSTER_NODES: cluster.nodes.join(',') } : {}),
    CERTFLEET_PREFIX: prefix,
    ACME_DIRECTORY_URL: proxy?.directoryUrl ?? pebble.directoryUrl,
    ACME_CA_BUNDLE: pebble.listenerCertPath,
    UPSTREAM_URL: upstream.url,
    // Test upstreams listen on loopback (127.0.0.x), which routes may not reach by default.
    UPSTREAM_ALLOWED_NETWORKS: '127.0.0.0/8',
    LOG_LEVEL: 'debug',
    // Every test handshake comes from 127.0.0.1: limits are tested on purpose, not by accident.
    EDGE_NEW_NAME_LIMIT_PER_IP: '100000/1s',
    EDGE_NEW_NAME_LIMIT_FLEET: '100000/1s',
    // One process per edge keeps the test machine's process count low; cluster mode is tested on purpose.
    EDGE_WORKERS: '1',
    ...(typeof options.env === 'function' ? options.env(pebble) : options.env),
  };
  const issuers = await Promise.all(
    Array.from({ length: options.issuers ?? 1 }, (_, i) =>
      startRole('issuer', { ...env, ...options.roleEnv?.issuer }, `issuer-${prefix}-${i}`),
    ),
  );
  const edges = await Promise.all(
    ports.map(async (p, i) => ({
      ports: p,
      proc: await startRole('edge', { ...env, ...options.roleEnv?.edge, ...edgeEnv(p) }, `edge-${prefix}-${i}`),
    })),
  );
  const renewer = options.renewer ? await startRole('renewer', { ...env, ...options.roleEnv?.renewer }, `renewer-${prefix}`) : undefined;
  const rootPem = await pebble.rootPem();
  const kekFile = env.CERTFLEET_KEK_FILE as string;
  return {
    kekFile,
    keyring: keyringOf(kekFile),
    get redis(): RedisServer {
      if (!redis) throw new Error(`stack.redis is the single server; this stack runs a ${topology}: use stack.${topology}`);
      return redis;
    },
    sentinel,
    cluster,
    pebble,
    proxy,
    upstream,
    prefix,
    env,
    edges,
    issuers,
    renewer,
    rootPem,
    async stop() {
      await Promise.all([...edges.map((e) => e.proc.stop()), ...issuers.map((p) => p.stop()), renewer?.stop()]);
      await proxy?.stop();
      await Promise.all([pebble.stop(), redis?.stop(), sentinel?.stop(), cluster?.stop(), upstream.close()]);
    },
  };
}
