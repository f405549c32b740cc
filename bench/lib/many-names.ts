/**
 * Scenario 6: an edge in front of many stored names. Writes N certificate records straight to
 * Redis through the store API (one real Pebble chain and key reused under N distinct names:
 * making N ECDSA keys and orders would take longer than the whole benchmark, and a secure
 * context costs the same whichever key it holds), starts a fresh edge, times its first handshake
 * from the moment it is spawned, then drives one handshake per name and reads the edge's RSS.
 */
import { createStore, type StoredCertificate } from '../../test/support/store.js';
import type { RedisServer } from '../../test/support/redis.js';
import { CLI, edgeEnv, edgePorts } from '../../test/support/certfleet.js';
import { spawnProc } from '../../test/support/processes.js';
import { servedSerial } from './clients.js';
import { runDistinct } from './tls-load.js';
import { treeRssBytes } from './proc.js';

export interface ManyNamesResult {
  names: number;
  /** Seconds to write every record through the store. */
  writeSeconds: number;
  /** From spawning the edge to the first handshake served the stored certificate. */
  firstHandshakeMs: number;
  rssAfterFirstMb: number;
  /** failed: not completed (refused, or not reached within the time allowed). */
  handshakes: { ok: number; failed: number; seconds: number };
  rssAfterMb: number;
  processes: number;
  record: string;
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

export async function manyNames(o: {
  redis: ReturnType<RedisServer['client']>;
  prefix: string;
  env: NodeJS.ProcessEnv;
  cert: StoredCertificate;
  count: number;
  workers: number;
  /** The handshakes stop after this long, counted as failed if not done. */
  maxSeconds: number;
  log: (line: string) => void;
}): Promise<ManyNamesResult> {
  const store = createStore(o.redis, o.prefix);
  const pattern = 'n%d.many.example.org';
  const names = Array.from({ length: o.count }, (_, i) => pattern.replace('%d', String(i)));
  const started = performance.now();
  let next = 0;
  const renewAt = o.cert.notAfter - 86_400_000;
  const writer = async () => {
    while (next < names.length) {
      const name = names[next++] as string;
      await store.certificates.save({ ...o.cert, name, names: [name] }, renewAt);
    }
  };
  await Promise.all(Array.from({ length: 128 }, writer));
  const writeSeconds = (performance.now() - started) / 1000;
  o.log(`  stored ${o.count} certificate records in ${writeSeconds.toFixed(1)} s`);

  const ports = await edgePorts();
  const target = { address: '127.0.0.1', port: ports.httpsPort };
  const spawned = performance.now();
  const edge = spawnProc('bench-edge-many', process.execPath, [CLI, 'run', 'edge'], {
    env: { ...process.env, ...o.env, ...edgeEnv(ports), EDGE_WORKERS: String(o.workers), LOG_LEVEL: 'warn' },
  });
  try {
    const probe = names[Math.floor(names.length / 2)] as string;
    let firstHandshakeMs = NaN;
    while (performance.now() - spawned < 60_000) {
      if (!edge.alive) throw new Error(`the edge exited at start:\n${edge.tail()}`);
      if ((await servedSerial(target, probe)) === o.cert.serial.replace(/^0+/, '')) {
        firstHandshakeMs = performance.now() - spawned;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (Number.isNaN(firstHandshakeMs)) throw new Error(`the new edge served no stored certificate to ${probe} within 60 s:\n${edge.tail()}`);
    const pid = edge.child.pid as number;
    const rssAfterFirst = treeRssBytes(pid);
    o.log(`  fresh edge: first handshake ${Math.round(firstHandshakeMs)} ms after spawn, RSS ${mb(rssAfterFirst.bytes)} MB`);
    const hsStarted = performance.now();
    const result = await runDistinct({ target, pattern, count: o.count, threads: 32, maxSeconds: o.maxSeconds });
    const handshakes = { ok: result.ok, failed: o.count - result.ok };
    const seconds = (performance.now() - hsStarted) / 1000;
    const rss = treeRssBytes(pid);
    o.log(`  ${handshakes.ok} handshakes (${handshakes.failed} failed) in ${seconds.toFixed(0)} s; RSS ${mb(rss.bytes)} MB over ${rss.processes} processes`);
    return {
      names: o.count,
      writeSeconds: Number(writeSeconds.toFixed(1)),
      firstHandshakeMs: Math.round(firstHandshakeMs),
      rssAfterFirstMb: mb(rssAfterFirst.bytes),
      handshakes: { ...handshakes, seconds: Number(seconds.toFixed(1)) },
      rssAfterMb: mb(rss.bytes),
      processes: rss.processes,
      record: 'one real Pebble ECDSA chain + key, reused under each distinct name',
    };
  } finally {
    await edge.stop();
  }
}
