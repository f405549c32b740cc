import { Cluster, type Redis } from 'ioredis';
import { redisReady, type RedisClient } from './connect.js';

/**
 * What a server's eviction policy is, and how we learnt it. BullMQ keeps jobs, locks and their
 * bookkeeping in Redis keys without TTLs: a server that evicts keys under memory pressure
 * (anything but `noeviction`) silently drops queued issuance jobs, a lock, or a certificate.
 */
export type RedisSettingsCheck =
  | { kind: 'ok'; node: string; policy: 'noeviction' }
  | { kind: 'evicting'; node: string; policy: string }
  | { kind: 'unknown'; node: string; reason: string };

async function checkNode(redis: Redis): Promise<RedisSettingsCheck> {
  const node = `${redis.options.host ?? '?'}:${redis.options.port ?? '?'}`;
  const verdict = (policy: string): RedisSettingsCheck =>
    policy === 'noeviction' ? { kind: 'ok', node, policy } : { kind: 'evicting', node, policy };
  let refusal: string;
  try {
    const [, policy] = (await redis.call('CONFIG', 'GET', 'maxmemory-policy')) as [string, string];
    if (policy) return verdict(policy);
    refusal = 'CONFIG GET maxmemory-policy returned nothing';
  } catch (error) {
    refusal = error instanceof Error ? error.message : String(error);
  }
  // Managed Redis (and our own ACL users: CONFIG GET would show masterauth) refuse CONFIG, but
  // INFO memory carries the same setting.
  try {
    const policy = /^maxmemory_policy:(\S+)/m.exec(await redis.info('memory'))?.[1];
    if (policy) return verdict(policy);
    return { kind: 'unknown', node, reason: `${refusal}; INFO memory has no maxmemory_policy` };
  } catch (error) {
    return { kind: 'unknown', node, reason: `${refusal}; INFO memory: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Asks every master (one server, the Sentinel master, each Cluster master) for its `maxmemory-policy`. */
export async function checkRedisSettings(redis: RedisClient): Promise<RedisSettingsCheck[]> {
  // A Cluster client knows its masters once ready; a fail-fast connection refuses commands until then.
  await redisReady(redis);
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  return Promise.all(nodes.map(checkNode));
}

/**
 * The start-up check every role runs: one warning line per master whose eviction policy is not
 * `noeviction`, or whose policy could not be read. Never throws and never blocks the role (call
 * it without awaiting, on a connection that queues commands until it is ready).
 */
export async function warnAboutRedisSettings(
  redis: RedisClient,
  logger: { warn(fields: object, msg: string): void },
): Promise<RedisSettingsCheck[]> {
  try {
    const checks = await checkRedisSettings(redis);
    for (const check of checks) {
      if (check.kind === 'evicting') {
        logger.warn(
          { node: check.node, maxmemoryPolicy: check.policy },
          'Redis may evict keys: set maxmemory-policy noeviction (BullMQ jobs and locks, and certificates, must never be evicted)',
        );
      } else if (check.kind === 'unknown') {
        logger.warn(
          { node: check.node, reason: check.reason },
          'could not check Redis maxmemory-policy: make sure it is noeviction (BullMQ jobs and locks, and certificates, must never be evicted)',
        );
      }
    }
    return checks;
  } catch (error) {
    logger.warn(
      { reason: error instanceof Error ? error.message : String(error) },
      'could not check Redis maxmemory-policy: make sure it is noeviction (BullMQ jobs and locks, and certificates, must never be evicted)',
    );
    return [];
  }
}
