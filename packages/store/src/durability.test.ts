import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { RedisClient } from './connect.js';
import { replicaAcknowledgement } from './durability.js';

/** A stand-in for one Redis connection: INFO replication says `replicas`, WAIT answers `acknowledged`. */
function fakeRedis(state: { replicas: number; acknowledged: number; fail?: boolean }) {
  const calls: string[] = [];
  const redis = Object.assign(new EventEmitter(), {
    async info(section: string) {
      calls.push(`INFO ${section}`);
      if (state.fail) throw new Error('connection lost');
      return `# Replication\r\nrole:master\r\nconnected_slaves:${state.replicas}\r\n`;
    },
    async call(...args: string[]) {
      calls.push(args.join(' '));
      return state.acknowledged;
    },
  });
  return { redis: redis as unknown as RedisClient, calls, emitter: redis };
}

describe('replicaAcknowledgement', () => {
  it('waits for one replica, bounded, when the master has one', async () => {
    const { redis, calls } = fakeRedis({ replicas: 1, acknowledged: 1 });
    await replicaAcknowledgement(redis, { timeoutMs: 600 }).afterWrite();
    expect(calls).toEqual(['INFO replication', 'WAIT 1 600']);
  });

  it('sends no WAIT to a master without replicas', async () => {
    const { redis, calls } = fakeRedis({ replicas: 0, acknowledged: 0 });
    await replicaAcknowledgement(redis).afterWrite();
    expect(calls).toEqual(['INFO replication']);
  });

  it('asks INFO again only after refreshMs, or after a reconnect (a failover may have moved the master)', async () => {
    let now = 0;
    const { redis, calls, emitter } = fakeRedis({ replicas: 1, acknowledged: 1 });
    const durability = replicaAcknowledgement(redis, { refreshMs: 1_000, clock: () => now });
    await durability.afterWrite();
    now = 999;
    await durability.afterWrite();
    expect(calls.filter((c) => c.startsWith('INFO'))).toHaveLength(1);
    now = 1_000;
    await durability.afterWrite();
    expect(calls.filter((c) => c.startsWith('INFO'))).toHaveLength(2);
    emitter.emit('ready');
    await durability.afterWrite();
    expect(calls.filter((c) => c.startsWith('INFO'))).toHaveLength(3);
  });

  it('reports a WAIT that no replica answered, and asks INFO again next time', async () => {
    const { redis, calls } = fakeRedis({ replicas: 1, acknowledged: 0 });
    const onUnacknowledged = vi.fn();
    const durability = replicaAcknowledgement(redis, { timeoutMs: 500, onUnacknowledged });
    await durability.afterWrite();
    await durability.afterWrite();
    expect(onUnacknowledged).toHaveBeenCalledWith({ replicas: 0, timeoutMs: 500 });
    expect(calls.filter((c) => c.startsWith('INFO'))).toHaveLength(2);
  });

  it('never fails the write it follows', async () => {
    const { redis } = fakeRedis({ replicas: 1, acknowledged: 1, fail: true });
    const onError = vi.fn();
    await expect(replicaAcknowledgement(redis, { onError }).afterWrite()).resolves.toBeUndefined();
    expect(onError).toHaveBeenCalledOnce();
  });
});
