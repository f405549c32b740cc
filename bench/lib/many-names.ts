/**
 * Scenario 6: an edge in front of many stored names. Writes N certificate records straight to
 * Redis through the store API (one real Pebble chain and key reused under N distinct names:
 * making N ECDSA keys and orders would take longer than the whole benchmark, and a secure
 * context costs the same whichever key it holds), starts a fresh edge, times its first handshake
 * from the moment it is spawned, then drives one handshake per name and reads the edge's memory:
 * RSS summed over its processes (what each process holds, shared pages counted in each) and PSS
 * summed (shared pages counted once, split between the processes sharing them: the figure for
 * "what does this edge cost the machine").
 */
import { createStore, type Keyring, type StoredCertificate } from '../../test/support/workspace.js';
import type { RedisServer } from '../../test/support/redis.js';
import { CLI, edgeEnv, edgePorts } from '../../test/support/certfleet.js';
import { spawnProc } from '../../test/support/processes.js';
import { servedSerial } from './clients.js';
import { runDistinct } from './tls-load.js';
import { treePssBytes, treeRssBytes } from './proc.js';

export interface ManyNamesResult {
  names: number;
  /** Seconds to write every record through the store. */
  writeSeconds: number;
  /** From spawning the edge to the first handshake served the stored certificate. */
  firstHandshakeMs: number;
  /** The same, for an edge whose store holds one name (its start-up alone). */
  controlFirstHandshakeMs: number;
  rssAfterFirstMb: number;
  /** PSS of the tree after the first handshake (absent from runs before it was measured). */
  pssAfterFirstMb?: number;
  /** failed: attempted and not completed; notReached: not attempted within the time allowed. */
  handshakes: { ok: number; failed: number; notReached: number; seconds: number };
  /** RSS summed over the tree: pages shared by the primary and workers counted in each. */
  rssAfterMb: number;
  processes: number;
  /** RSS of each process of the tree (the primary first), MB. */
  perProcessMb: number[];
  /** PSS summed over the tree: every page counted once (absent from runs before it was measured). */
  pssAfterMb?: number;
  /** PSS of each process of the tree (the primary first), MB. */
  pssPerProcessMb?: number[];
  /** The PSS's anonymous (heaps), file-backed (binary, mapped store) and shmem parts, MB, when the kernel gives them (>= 5.7). */
  pssParts?: { anonMb: number; fileMb: number; shmemMb: number };
  record: string;
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/**
 * Spawns an edge and times, from the spawn, the first handshake for `probe` that gets the
 * stored certificate (`serial`); polls every 10 ms, gives up after 60 s.
 */
async function startAndTimeFirstHandshake(env: NodeJS.ProcessEnv, workers: number, probe: string, serial: string) {
  const ports = await edgePorts();
  const target = { address: '127.0.0.1', port: ports.httpsPort };
  const wanted = serial.toUpperCase().replace(/^0+/, '');
  const spawned = performance.now();
  const edge = spawnProc(`bench-edge-${ports.httpsPort}`, process.execPath, [CLI, 'run', 'edge'], {
    env: { ...process.env, ...env, ...edgeEnv(ports), EDGE_WORKERS: String(workers), LOG_LEVEL: 'warn' },
  });
  while (performance.now() - spawned < 60_000) {
    if (!edge.alive) throw new Error(`the edge exited at start:\n${edge.tail()}`);
    if ((await servedSerial(target, probe)) === wanted) return { edge, target, ms: Math.round(performance.now() - spawned) };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await edge.stop();
  throw new Error(`a new edge served no stored certificate to ${probe} within 60 s:\n${edge.tail()}`);
}

export async function manyNames(o: {
  redis: ReturnType<RedisServer['client']>;
  prefix: string;
  env: NodeJS.ProcessEnv;
  cert: StoredCertificate;
  /** The stack's keyring: the records are sealed as the edge reads them. */
  keyring: Keyring;
  count: number;
  workers: number;
  /** The handshakes stop after this long, counted as failed if not done. */
  maxSeconds: number;
  log: (line: string) => void;
}): Promise<ManyNamesResult> {
  const store = createStore(o.redis, o.prefix, { keyring: o.keyring });
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

  // The same start with a single stored name, to tell the edge's start-up from the cost of the names.
  const controlPrefix = `${o.prefix}-one`;
  const probe = names[Math.floor(names.length / 2)] as string;
  await createStore(o.redis, controlPrefix, { keyring: o.keyring }).certificates.save({ ...o.cert, name: probe, names: [probe] }, renewAt);
  const control = await startAndTimeFirstHandshake({ ...o.env, CERTFLEET_PREFIX: controlPrefix }, o.workers, probe, o.cert.serial);
  await control.edge.stop();
  o.log(`  control: an edge with one stored name served its first handshake ${control.ms} ms after spawn`);

  const { edge, ms: firstHandshakeMs, target } = await startAndTimeFirstHandshake(o.env, o.workers, probe, o.cert.serial);
  try {
    const pid = edge.child.pid as number;
    const rssAfterFirst = treeRssBytes(pid);
    const pssAfterFirst = treePssBytes(pid);
    o.log(
      `  fresh edge, ${o.count} names stored: first handshake ${firstHandshakeMs} ms after spawn, ` +
        `RSS ${mb(rssAfterFirst.bytes)} MB summed, PSS ${mb(pssAfterFirst.bytes)} MB`,
    );
    const hsStarted = performance.now();
    const result = await runDistinct({ target, pattern, count: o.count, threads: 32, maxSeconds: o.maxSeconds });
    const handshakes = { ok: result.ok, failed: result.errors, notReached: o.count - result.ok - result.errors };
    const seconds = (performance.now() - hsStarted) / 1000;
    const rss = treeRssBytes(pid);
    const pss = treePssBytes(pid);
    o.log(
      `  ${handshakes.ok} handshakes (${handshakes.failed} failed, ${handshakes.notReached} not reached) in ${seconds.toFixed(0)} s; ` +
        `over ${rss.processes} processes RSS ${mb(rss.bytes)} MB summed, PSS ${mb(pss.bytes)} MB (counted once)`,
    );
    const many: ManyNamesResult = {
      names: o.count,
      writeSeconds: Number(writeSeconds.toFixed(1)),
      firstHandshakeMs,
      controlFirstHandshakeMs: control.ms,
      rssAfterFirstMb: mb(rssAfterFirst.bytes),
      pssAfterFirstMb: mb(pssAfterFirst.bytes),
      handshakes: { ...handshakes, seconds: Number(seconds.toFixed(1)) },
      rssAfterMb: mb(rss.bytes),
      processes: rss.processes,
      perProcessMb: rss.perProcess.map(mb),
      pssAfterMb: mb(pss.bytes),
      pssPerProcessMb: pss.perProcess.map(mb),
      record: 'one real Pebble ECDSA chain + key, reused under each distinct name',
    };
    if (pss.anon !== undefined) many.pssParts = { anonMb: mb(pss.anon), fileMb: mb(pss.file ?? 0), shmemMb: mb(pss.shmem ?? 0) };
    return many;
  } finally {
    await edge.stop();
  }
}
