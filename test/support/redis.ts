import { Redis } from 'ioredis';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnProc, type Proc } from './processes.js';

export interface RedisServer {
  url: string;
  port: number;
  readonly proc: Proc;
  client(): Redis;
  /** Stops the server (saving its append-only file when persistent) and starts it again on the same port. */
  restart(): Promise<void>;
  /** Kills the server with SIGKILL (an outage, not a shutdown); `start` brings it back on the same port. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A redis-server of the test's own on a free port. Keeps nothing on disk, unless `persistent`
 * (append-only file in a temporary folder), for tests that restart it.
 */
export async function startRedis(name = 'redis', options: { persistent?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'certfleet-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--daemonize',
    'no',
    '--dir',
    dir,
    '--appendonly',
    options.persistent ? 'yes' : 'no',
    '--appendfsync',
    'always',
  ];
  let starts = 0;
  const launch = async () => {
    starts += 1;
    const started = spawnProc(`${name}-${port}${starts > 1 ? `-${starts}` : ''}`, 'redis-server', args);
    await started.waitForLine((line) => line.includes('Ready to accept connections'), 15_000, 'redis ready');
    return started;
  };
  let proc = await launch();
  const clients: Redis[] = [];
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get proc() {
      return proc;
    },
    async restart() {
      await proc.stop();
      proc = await launch();
    },
    async kill() {
      proc.child.kill('SIGKILL');
      await proc.exited;
    },
    async start() {
      if (proc.alive) throw new Error('redis-server is already running');
      proc = await launch();
    },
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

/** Whether any key exists under `prefix:` at `url` (the demo uses no prefix that holds data). */
export async function prefixHoldsKeys(url: string, prefix: string): Promise<boolean> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    // One SCAN call may come back empty with more to go: walk on until the cursor returns to 0.
    for await (const keys of client.scanStream({ match: `${prefix}:*`, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) return true;
    }
    return false;
  } finally {
    client.disconnect();
  }
}
