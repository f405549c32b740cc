import { randomUUID } from 'node:crypto';
import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';
import { scriptCommand } from './script-command.js';

// KEYS[1] the lease; ARGV[1] its holder. Deletes the lease only while this holder still has it
// (one that outlived its TTL may have been taken by another process since). Returns 1 or 0.
const RELEASE_LEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** Fleet-wide leases: one process of the fleet does a job at a time. */
export interface LeaseStore {
  /**
   * Runs `job` only if no other process of the fleet holds the lease named `name`; returns
   * whether it ran. The lease expires after `ttlMs` even if its holder dies, so `ttlMs` must
   * exceed the job's longest run.
   */
  run<T>(name: string, ttlMs: number, job: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
}

export function createLeaseStore(redis: RedisClient, keys: RedisKeys): LeaseStore {
  const release = scriptCommand<number>(redis, 'certfleetReleaseLease', RELEASE_LEASE_LUA, 1);
  return {
    async run(name, ttlMs, job) {
      const key = keys.lease(name);
      const holder = randomUUID();
      if ((await redis.set(key, holder, 'PX', ttlMs, 'NX')) !== 'OK') return { ran: false };
      try {
        return { ran: true, value: await job() };
      } finally {
        await release(key, holder);
      }
    },
  };
}
