import { Redis } from 'ioredis';
import { freePort, spawnProc, type Proc } from './processes.js';

export interface RedisServer {
  url: string;
  port: number;
  proc: Proc;
  client(): Redis;
  stop(): Promise<void>;
}

/** A redis-server of the test's own on a free port, keeping nothing on disk. */
export async function startRedis(name = 'redis'): Promise<RedisServer> {
  const port = await freePort();
  const proc = spawnProc(`${name}-${port}`, 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no',
  ]);
  await proc.waitForLine((line) => line.includes('Ready to accept connections'), 15_000, 'redis ready');
  const clients: Redis[] = [];
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    proc,
    client() {
      const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.disconnect();
      await proc.stop();
    },
  };
}

/** Whether a Redis answers PING at `url` within a second. */
export async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Deletes every key under `prefix:` (and nothing else) at `url`: for a caller that owns the
 * prefix, such as the demo, which starts each run with a new CA.
 */
export async function deletePrefix(url: string, prefix: string): Promise<number> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    const stream = client.scanStream({ match: `${prefix}:*`, count: 500 });
    for await (const keys of stream as AsyncIterable<string[]>) {
      if (keys.length) deleted += await client.unlink(...keys);
    }
    return deleted;
  } finally {
    client.disconnect();
  }
}
