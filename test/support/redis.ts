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
