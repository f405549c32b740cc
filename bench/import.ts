/**
 * `certfleet domains import` at 100,000 names (issue 13: under 60 s), against a fresh
 * redis-server of the bench's own (free port, stopped at the end): writes a file of N names
 * (shop-<i>.customer-<i % 1000>.example.com, plus one invalid line every 10,000 to show that
 * invalid lines cost nothing), runs the built CLI on it as a user would, and reads the registry
 * back to check every valid name went in. Run (after the build): `pnpm exec tsx bench/import.ts`.
 * BENCH_IMPORT_NAMES changes the count; BENCH_IMPORT_ISSUE=1 also enqueues an order for each.
 * Prints and writes bench/out/import.json.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../test/support/certfleet.js';
import { REPO_ROOT, stopAll } from '../test/support/processes.js';
import { startRedis } from '../test/support/redis.js';

const NAMES = Number(process.env.BENCH_IMPORT_NAMES ?? 100_000);
const ISSUE = process.env.BENCH_IMPORT_ISSUE === '1';
const PREFIX = 'bench-import';

async function main(): Promise<void> {
  const redis = await startRedis('bench-import');
  try {
    const dir = mkdtempSync(join(tmpdir(), 'certfleet-bench-import-'));
    const file = join(dir, 'names.txt');
    const lines: string[] = [];
    let invalid = 0;
    for (let i = 0; i < NAMES; i += 1) {
      lines.push(`shop-${i}.customer-${i % 1_000}.example.com`);
      if (i % 10_000 === 9_999) {
        lines.push(`not a name ${i}`);
        invalid += 1;
      }
    }
    writeFileSync(file, `${lines.join('\n')}\n`);

    const started = performance.now();
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [CLI, 'domains', 'import', file, ...(ISSUE ? ['--issue'] : [])],
        { env: { ...process.env, REDIS_URL: redis.url, CERTFLEET_PREFIX: PREFIX }, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const client = redis.client();
    const registered = await client.zcard(`${PREFIX}:hostnames`);
    const skippedReported = result.stderr.split('\n').filter((line) => /:\d+: skipped "/.test(line)).length;
    const figures = {
      names: NAMES,
      invalidLines: invalid,
      issue: ISSUE,
      seconds: Number(seconds.toFixed(2)),
      namesPerSecond: Math.round(NAMES / seconds),
      registered,
      skippedReported,
      exitCode: result.code,
      summary: result.stdout.trim(),
    };
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
    mkdirSync(join(REPO_ROOT, 'bench/out'), { recursive: true });
    writeFileSync(join(REPO_ROOT, 'bench/out/import.json'), `${JSON.stringify(figures, null, 2)}\n`);
    if (registered !== NAMES || skippedReported !== invalid) {
      throw new Error(`expected ${NAMES} registered and ${invalid} invalid lines reported, got ${registered} and ${skippedReported}`);
    }
  } finally {
    await redis.stop();
    await stopAll();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/import: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
