import { Cluster } from 'ioredis';
import type { RedisClient } from './connect.js';

/**
 * What a write that must survive a failover waits for after it is done. Redis replicates
 * asynchronously: a master killed right after a write can take it with it, and Sentinel then
 * promotes a replica that never saw it. For a certificate that a visitor was already served, that
 * would mean a second order for the same name (and a budget spent twice).
 */
export interface Durability {
  /**
   * Resolves once the writes this connection has made so far are on a replica, or the bound
   * has passed, or at once when there is no replica to wait for. Never rejects: a write that
   * could not be confirmed is still a write.
   */
  afterWrite(): Promise<void>;
}

/** No waiting: a single server, tests, and every store but the certificate writer's. */
export const noDurability: Durability = { afterWrite: async () => undefined };

export interface ReplicaAcknowledgementOptions {
  /**
   * The bound on one `WAIT` (ms). 750 ms: a healthy replica on the same network acknowledges in
   * well under a millisecond, and an issuance already took seconds; a stalled replica must not
   * hold the issuer's connection (BullMQ's lock renewals share it) for longer than that.
   */
  timeoutMs?: number;
  /** How long the answer to "are there replicas?" is kept (ms); a failover changes it. */
  refreshMs?: number;
  clock?: () => number;
  /** Called when a `WAIT` ended with fewer acknowledgements than asked for (the replica lags or is gone). */
  onUnacknowledged?: (info: { replicas: number; timeoutMs: number }) => void;
  /** Called when `INFO replication` or `WAIT` failed (the write itself had succeeded). */
  onError?: (error: unknown) => void;
}

/**
 * Waits (`WAIT 1 <timeoutMs>`) for one replica to acknowledge the connection's writes, when
 * `INFO replication` says the master has at least one connected replica; that answer is cached
 * for `refreshMs`, so a write costs one extra round trip, not two.
 *
 * Not on a Cluster: `WAIT` counts the replicas of the node the connection sent it to, and an
 * ioredis Cluster client sends a keyless command to any node, not the one that holds the
 * certificate's slot. The Cluster's own failover story (replicas per shard) is left to it.
 */
export function replicaAcknowledgement(redis: RedisClient, options: ReplicaAcknowledgementOptions = {}): Durability {
  if (redis instanceof Cluster) return noDurability;
  const timeoutMs = options.timeoutMs ?? 750;
  const refreshMs = options.refreshMs ?? 10_000;
  const clock = options.clock ?? Date.now;
  let known: { replicas: number; at: number } | undefined;

  async function connectedReplicas(): Promise<number> {
    if (known && clock() - known.at < refreshMs) return known.replicas;
    const info = await redis.info('replication');
    const replicas = Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0);
    known = { replicas, at: clock() };
    return replicas;
  }

  // A reconnect may land on another master (a failover): ask again rather than trust the cache.
  redis.on('ready', () => {
    known = undefined;
  });

  return {
    async afterWrite() {
      try {
        if ((await connectedReplicas()) < 1) return;
        const acknowledged = Number(await redis.call('WAIT', '1', String(timeoutMs)));
        if (acknowledged < 1) {
          // Maybe the replica is gone for good: ask INFO again next time instead of waiting out the bound on every write.
          known = undefined;
          options.onUnacknowledged?.({ replicas: acknowledged, timeoutMs });
        }
      } catch (error) {
        options.onError?.(error);
      }
    },
  };
}
