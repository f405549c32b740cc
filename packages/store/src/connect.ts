import type { RedisTarget } from '@certfleet/config';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export interface ConnectOptions {
  /**
   * Fail commands at once while disconnected instead of queueing them: right on a hot path
   * (a TLS handshake must not wait for Redis to come back), wrong for a worker.
   */
  failFast?: boolean;
  /** Needed by BullMQ workers and queue events (blocking commands). */
  forBullmq?: boolean;
  connectionName?: string;
  /** Fail a command that has no answer after this long (the handshake path bounds every await). */
  commandTimeoutMs?: number;
}

/** A Redis connection from a `redis://` or `rediss://` URL that reconnects by itself, forever. */
export function connectRedis(url: string, options: ConnectOptions = {}): Redis {
  return new Redis(url, settingsOf(options));
}

function settingsOf(options: ConnectOptions): RedisOptions {
  return {
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
    ...(options.failFast ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 } : {}),
    ...(options.forBullmq ? { maxRetriesPerRequest: null } : {}),
    ...(options.commandTimeoutMs ? { commandTimeout: options.commandTimeoutMs } : {}),
  };
}

/**
 * ioredis 5.11's failover detector can end a Sentinel connection for good: when `+switch-master`
 * arrives while the client is between reconnect attempts and asking the sentinels again (the
 * master was just killed), the detector's disconnect makes that connect attempt fail with
 * "Connection is closed." and the client goes from `connecting` straight to `end`, without
 * the `close` step that would schedule the next attempt. Seen in test/e2e/redis-sentinel.test.ts:
 * one edge's connections stayed closed for good after a failover while the other recovered
 * (ioredis issue #1683 describes the same symptom). An `end` that no one asked for (our own
 * `disconnect()`/`quit()` set `manuallyClosing` or pass through `close`) starts connecting again.
 */
function reconnectAfterFailoverRace(redis: Redis): Redis {
  let previous = redis.status;
  for (const status of ['connecting', 'connect', 'ready', 'close', 'reconnecting', 'wait'] as const) {
    redis.on(status, () => {
      previous = status;
    });
  }
  redis.on('end', () => {
    const askedFor = (redis as unknown as { manuallyClosing?: boolean }).manuallyClosing === true;
    if (previous === 'connecting' && !askedFor) {
      setTimeout(() => redis.connect().catch(() => undefined), 200).unref();
    }
    previous = 'end';
  });
  // BullMQ's blocking connections and our subscribers are duplicates: they need the same care.
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = (override) => reconnectAfterFailoverRace(duplicate(override));
  return redis;
}

/** A connection to any topology: ioredis's Cluster client has the same commands as a single one. */
export type RedisClient = Redis | Cluster;

/**
 * A connection to the deployment's Redis, whatever its topology: one server, the master a
 * Sentinel group names (followed across failovers: ioredis asks the sentinels again on every
 * reconnect), or a Cluster (slots learnt from the seeds, MOVED and ASK followed). Credentials
 * apply to every data node; TLS to every node, sentinels included.
 */
export function connectTo(target: RedisTarget, options: ConnectOptions = {}): RedisClient {
  const settings = settingsOf(options);
  const auth = { ...(target.username ? { username: target.username } : {}), ...(target.password ? { password: target.password } : {}) };
  const tls = target.tls
    ? {
        tls: {
          ...(target.tls.ca ? { ca: target.tls.ca } : {}),
          ...(target.tls.cert ? { cert: target.tls.cert, key: target.tls.key } : {}),
        },
      }
    : {};
  const topology = target.topology;
  switch (topology.kind) {
    case 'single':
      return new Redis({ ...settings, ...auth, ...tls, host: topology.host, port: topology.port, db: topology.db });
    case 'sentinel':
      return reconnectAfterFailoverRace(
        new Redis({
          ...settings,
          ...auth,
          ...tls,
          sentinels: topology.sentinels,
          name: topology.masterName,
          // Sentinels keep no data and usually no ACL users: they are asked without credentials,
          // over TLS when the master is.
          ...(target.tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls.tls } : {}),
          // After a failover, the old master may still answer as a replica: follow the role, not the address.
          failoverDetector: true,
        }),
      );
    case 'cluster':
      return new Cluster(topology.nodes, {
        redisOptions: { ...settings, ...auth, ...tls },
        clusterRetryStrategy: settings.retryStrategy,
        ...(settings.enableOfflineQueue === false ? { enableOfflineQueue: false } : {}),
      });
  }
}

/**
 * A second connection like `redis`, for a subscriber (a subscribed connection can do nothing
 * else): it queues its SUBSCRIBE until connected and never times commands out, whatever the
 * parent's fail-fast settings. On a Cluster, pub/sub reaches every node, so any one will do.
 */
export function subscriberConnection(redis: RedisClient): RedisClient {
  const overrides = { enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined };
  if (redis instanceof Cluster) {
    return redis.duplicate(undefined, { enableOfflineQueue: true, redisOptions: { ...redis.options.redisOptions, ...overrides } });
  }
  return redis.duplicate(overrides);
}

/** Resolves once `redis` is connected and ready; it keeps retrying meanwhile. */
export async function redisReady(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
}
