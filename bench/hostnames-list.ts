/**
 * Listing hostnames at 1,000,000, against a fresh redis-server of the bench's own (free port,
 * stopped at the end) and a real dashboard process serving /v1:
 * 1. 1,000,000 hostnames registered through the store (`hostnames.putMany`, 10,000 a call:
 *    records, the name index and the status index), 10,000 of them then failing (name-state
 *    `markCooling`, which moves them to the failed index) and 100,000 with an inventory entry;
 * 2. `GET /v1/hostnames?limit=1000` (first page), a deep cursor page (after the 900,000th name),
 *    `q=` prefix, `status=failed`, and `expiring_before=` — each the median of a few requests,
 *    timed at the client (HTTP on loopback, JSON of 1,000 full hostname objects included).
 * Run: `pnpm bench:hostnames-list`. Prints and writes bench/out/hostnames-list.json.
 * BENCH_HOSTNAMES and BENCH_REPEAT change the sizes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newPrefix, startRole } from '../test/support/certfleet.js';
import { freePort, REPO_ROOT, stopAll } from '../test/support/processes.js';
import { startRedis } from '../test/support/redis.js';
import { createStore, Redis, redisKeys } from '../test/support/workspace.js';

const HOSTNAMES = Number(process.env.BENCH_HOSTNAMES ?? 1_000_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const FAILING = Math.floor(HOSTNAMES / 100);
const EXPIRING = Math.floor(HOSTNAMES / 10);
const BATCH = 10_000;
const TOKEN = 'bench-api-token-0123456789';
const DAY = 86_400_000;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
/** Seven digits, so that name order is number order: h0123456.c456.example.com. */
const nameOf = (i: number) => `h${String(i).padStart(7, '0')}.c${i % 1_000}.example.com`;

async function main(): Promise<void> {
  const server = await startRedis('bench-redis');
  const redis = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: null });
  const prefix = newPrefix('bench');
  const store = createStore(redis, prefix);
  const keys = redisKeys(prefix);
  try {
    const now = Date.now();
    const loadStarted = performance.now();
    for (let start = 0; start < HOSTNAMES; start += BATCH) {
      const records = Array.from({ length: Math.min(BATCH, HOSTNAMES - start) }, (_, k) => ({
        name: nameOf(start + k),
        customMetadata: { customer: (start + k) % 5_000 },
        upstream: null,
        createdAt: now,
        updatedAt: now,
        deletedAt: null,
      }));
      await store.hostnames.putMany(records);
    }
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    // Every 100th name fails validation (through the name-state store, which moves it to the failed index).
    for (let start = 0; start < FAILING; start += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, FAILING - start) }, (_, k) =>
          store.nameStates.markCooling(nameOf((start + k) * 100), 'connection refused', now + 60_000, now),
        ),
      );
    }
    // Expiring names: inventory entries, as the issuer's save writes them.
    for (let start = 0; start < EXPIRING; start += BATCH) {
      const entries = Array.from({ length: Math.min(BATCH, EXPIRING - start) }, (_, k) => [
        now + ((start + k) % 90) * DAY,
        nameOf((start + k) * 7),
      ]);
      await redis.zadd(keys.inventory, ...entries.flat());
    }
    const counts = await store.hostnames.counts();
    if (counts.total !== HOSTNAMES || counts.failed !== FAILING) throw new Error(`indexes incomplete: ${JSON.stringify(counts)}`);
    const memoryBytes = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);

    const port = await freePort();
    await startRole('dashboard', {
      REDIS_URL: server.url,
      CERTFLEET_PREFIX: prefix,
      DASHBOARD_PORT: String(port),
      DASHBOARD_BIND: '127.0.0.1',
      DASHBOARD_TOKEN: 'bench-dashboard-token-0123',
      API_TOKEN: TOKEN,
      API_RATE_LIMIT: '100000/1s',
    });
    const deepCursor = Buffer.from(JSON.stringify({ k: 'name', after: nameOf(Math.floor(HOSTNAMES * 0.9)) })).toString('base64url');
    const queries: Record<string, { path: string; expect: number }> = {
      firstPage: { path: '/v1/hostnames?limit=1000', expect: 1_000 },
      deepCursorPage: { path: `/v1/hostnames?limit=1000&cursor=${deepCursor}`, expect: 1_000 },
      prefix: { path: `/v1/hostnames?limit=1000&q=${nameOf(Math.floor(HOSTNAMES / 2)).slice(0, 5)}`, expect: 1_000 },
      statusFailed: { path: '/v1/hostnames?limit=1000&status=failed', expect: Math.min(1_000, FAILING) },
      expiringBefore: {
        path: `/v1/hostnames?limit=1000&expiring_before=${new Date(now + 30 * DAY).toISOString()}`,
        // Entry k expires (k mod 90) days from now.
        expect: Math.min(1_000, Array.from({ length: EXPIRING }, (_, k) => k % 90).filter((day) => day < 30).length),
      },
    };
    const timings: Record<string, { medianMs: number; allMs: number[]; items: number; bytes: number }> = {};
    for (const [label, query] of Object.entries(queries)) {
      const ms: number[] = [];
      let items = 0;
      let bytes = 0;
      for (let i = 0; i < REPEAT + 1; i += 1) {
        const started = performance.now();
        const response = await fetch(`http://127.0.0.1:${port}${query.path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        const text = await response.text();
        const elapsed = performance.now() - started;
        if (response.status !== 200) throw new Error(`${label}: ${response.status} ${text.slice(0, 300)}`);
        items = (JSON.parse(text) as { hostnames: unknown[] }).hostnames.length;
        bytes = text.length;
        // The first request warms the dashboard up (JIT, connections): not counted.
        if (i > 0) ms.push(elapsed);
      }
      if (items !== query.expect) throw new Error(`${label}: ${items} hostnames, expected ${query.expect}`);
      timings[label] = { medianMs: Number(median(ms).toFixed(1)), allMs: ms.map((v) => Number(v.toFixed(1))), items, bytes };
    }

    const result = {
      hostnames: HOSTNAMES,
      failing: FAILING,
      expiring: EXPIRING,
      loadSeconds: Number(loadSeconds.toFixed(1)),
      redisUsedMemoryMB: Math.round(memoryBytes / 1e6),
      timings,
      note: 'client-side time of one GET on loopback, JSON of up to 1,000 full hostname objects included; median of BENCH_REPEAT after one warm-up',
      redis: execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim(),
      node: process.version,
      loadAverage: (await import('node:os')).loadavg().map((v) => Number(v.toFixed(2))),
      when: new Date().toISOString(),
    };
    mkdirSync(join(REPO_ROOT, 'bench', 'out'), { recursive: true });
    writeFileSync(join(REPO_ROOT, 'bench', 'out', 'hostnames-list.json'), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      `${HOSTNAMES.toLocaleString('en')} hostnames registered through the store in ${result.loadSeconds} s (Redis ${result.redisUsedMemoryMB} MB)\n` +
        Object.entries(timings)
          .map(([label, t]) => `GET ${label}: median ${t.medianMs} ms (${t.allMs.join(', ')} ms), ${t.items} hostnames, ${t.bytes} bytes\n`)
          .join(''),
    );
  } finally {
    redis.disconnect();
    await stopAll();
    await server.stop();
  }
}

main().catch(async (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  await stopAll();
  process.exit(1);
});
