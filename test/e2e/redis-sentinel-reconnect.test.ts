import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTo } from '@certfleet/store';
import type { Redis } from 'ioredis';
import { startSentinelTopology, type SentinelTopology } from '../support/redis-topologies.js';
import { until } from '../support/wait.js';

/**
 * ioredis's failover detector, firing while a Sentinel client is reconnecting, ends the
 * connection for good ("Connection is closed.", status `end`): seen in redis-sentinel.test.ts as
 * an edge that never reached Redis again after a failover. connectTo's clients connect again.
 */
describe('a Sentinel connection that a failover notice interrupts while it reconnects', () => {
  let sentinel: SentinelTopology;
  beforeAll(async () => {
    sentinel = await startSentinelTopology();
  });
  afterAll(async () => {
    await sentinel?.stop();
  });

  const target = (): Parameters<typeof connectTo>[0] => ({
    topology: {
      kind: 'sentinel',
      sentinels: sentinel.sentinels.map((s) => ({ host: '127.0.0.1', port: Number(s.split(':')[1]) })),
      masterName: sentinel.masterName,
    },
    username: undefined,
    password: undefined,
    tls: undefined,
    endpoints: [],
    description: 'test sentinels',
  });

  /** Puts `client` in `connecting`, then does what FailoverDetector does on +switch-master. */
  const interruptWhileConnecting = async (client: Redis) => {
    const connecting = once(client, 'connecting');
    client.disconnect(true);
    await connecting;
    // Still asking the sentinels (the event comes on the next tick, the answer a round trip later).
    expect(client.status).toBe('connecting');
    (client as unknown as { connector: { disconnect(): void } }).connector.disconnect();
  };

  it.each([
    ['a connection', (client: Redis) => client],
    ['its duplicate (as BullMQ makes for blocking reads)', (client: Redis) => client.duplicate()],
  ])('%s comes back and answers', async (_label, pick) => {
    const original = connectTo(target(), { failFast: true }) as Redis;
    const client = pick(original);
    client.on('error', () => undefined);
    original.on('error', () => undefined);
    try {
      await until('ready', () => client.status === 'ready', 10_000, 10);
      await interruptWhileConnecting(client);
      await until('ready again', () => client.status === 'ready', 10_000, 10);
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
      original.disconnect();
    }
  });

  it('stays closed when its owner closes it while it connects', async () => {
    const client = connectTo(target(), { failFast: true }) as Redis;
    client.on('error', () => undefined);
    await until('ready', () => client.status === 'ready', 10_000, 10);
    const connecting = once(client, 'connecting');
    client.disconnect(true);
    await connecting;
    expect(client.status).toBe('connecting');
    client.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(client.status).toBe('end');
  });
});
