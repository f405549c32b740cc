import { randomBytes } from 'node:crypto';
import { deletePrefix, prefixHoldsKeys, redisAnswers, startRedis } from '../../test/support/redis.js';

/** The Redis the demo runs on and the prefix its keys go under. */
export interface DemoRedis {
  url: string;
  prefix: string;
  /** Where it came from, for the demo's first line. */
  origin: string;
  /** Removes what this run created (its fresh prefix's keys, or its own redis-server) and nothing else. */
  release(): Promise<void>;
}

const DEFAULT_PREFIX = 'certfleet-demo';

/**
 * Where the demo keeps its keys; it never deletes data it did not create (issue 13: it used to
 * delete every key under its prefix in whatever Redis answered at REDIS_URL or :6379).
 * - REDIS_URL unset: a redis-server of its own on a free port, stopped at the end; a Redis
 *   already running on 6379 is someone's and is left alone.
 * - REDIS_URL set: that Redis, under a fresh prefix `certfleet-demo-<random>` per run (each run
 *   has a new CA, so an earlier run's certificates would not verify anyway); the keys under it
 *   are removed at the end. An explicit CERTFLEET_PREFIX is used only if nothing is under it yet.
 */
export async function demoRedis(env: NodeJS.ProcessEnv): Promise<DemoRedis> {
  const wanted = env.REDIS_URL;
  if (!wanted) {
    const own = await startRedis('demo-redis');
    return { url: own.url, prefix: env.CERTFLEET_PREFIX || DEFAULT_PREFIX, origin: 'its own redis-server', release: () => own.stop() };
  }
  if (!(await redisAnswers(wanted))) {
    throw new Error(`REDIS_URL=${wanted} does not answer: start that Redis, or unset REDIS_URL and the demo starts its own`);
  }
  if (env.CERTFLEET_PREFIX) {
    if (await prefixHoldsKeys(wanted, env.CERTFLEET_PREFIX)) {
      throw new Error(
        `keys under "${env.CERTFLEET_PREFIX}:" already exist at ${wanted}: the demo does not use (or delete) data it did not create; ` +
          'unset CERTFLEET_PREFIX for a fresh prefix, or choose an unused one',
      );
    }
    return { url: wanted, prefix: env.CERTFLEET_PREFIX, origin: 'REDIS_URL, prefix unused until now', release: async () => undefined };
  }
  const prefix = `${DEFAULT_PREFIX}-${randomBytes(4).toString('hex')}`;
  return {
    url: wanted,
    prefix,
    origin: 'REDIS_URL, a fresh prefix for this run',
    release: async () => {
      await deletePrefix(wanted, prefix);
    },
  };
}
