import { Redis, type RedisOptions } from 'ioredis';

export interface ConnectOptions {
  /**
   * Fail commands at once while disconnected instead of queueing them: right on a hot path
   * (a TLS handshake must not wait for Redis to come back), wrong for a worker.
   */
  failFast?: boolean;
  /** Needed by BullMQ workers and queue events (blocking commands). */
  forBullmq?: boolean;
  connectionName?: string;
}

/** A Redis connection from a `redis://` or `rediss://` URL that reconnects by itself, forever. */
export function connectRedis(url: string, options: ConnectOptions = {}): Redis {
  const settings: RedisOptions = {
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
    ...(options.failFast ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 } : {}),
    ...(options.forBullmq ? { maxRetriesPerRequest: null } : {}),
  };
  return new Redis(url, settings);
}
