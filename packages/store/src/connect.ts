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
  /** Fail a command that has no answer after this long (the handshake path bounds every await). */
  commandTimeoutMs?: number;
}

/** A Redis connection from a `redis://` or `rediss://` URL that reconnects by itself, forever. */
export function connectRedis(url: string, options: ConnectOptions = {}): Redis {
  const settings: RedisOptions = {
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
    ...(options.failFast ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 } : {}),
    ...(options.forBullmq ? { maxRetriesPerRequest: null } : {}),
    ...(options.commandTimeoutMs ? { commandTimeout: options.commandTimeoutMs } : {}),
  };
  return new Redis(url, settings);
}

/** Resolves once `redis` is connected and ready; it keeps retrying meanwhile. */
export async function redisReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
}
