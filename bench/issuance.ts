/**
 * Issuance throughput against Pebble on loopback, two issuers (ISSUER_CONCURRENCY each):
 * 1. sustained issuance rate: N names pre-provisioned at once, certificates per second from the
 *    first order to the last certificate stored;
 * 2. pre-provisioning 1,000 names from a file: `certfleet domains import FILE --issue` until every
 *    certificate is stored.
 * Run: `pnpm bench:issuance` (after `npm run setup`). Prints and writes bench/out/issuance.json.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../test/support/certfleet.js';
import { REPO_ROOT, stopAll } from '../test/support/processes.js';
import type { RedisServer } from '../test/support/redis.js';
import { startStack } from '../test/support/stack.js';
import { redisKeys } from '../test/support/workspace.js';

const RATE_NAMES = Number(process.env.BENCH_RATE_NAMES ?? 200);
const FILE_NAMES = Number(process.env.BENCH_FILE_NAMES ?? 1000);
const CONCURRENCY = process.env.ISSUER_CONCURRENCY ?? '8';

async function storedCount(redis: ReturnType<RedisServer['client']>, prefix: string): Promise<number> {
  return redis.zcard(redisKeys(prefix).inventory);
}

async function waitForCount(redis: ReturnType<RedisServer['client']>, prefix: string, count: number): Promise<void> {
  while ((await storedCount(redis, prefix)) < count) await new Promise((resolve) => setTimeout(resolve, 100));
}

async function main(): Promise<void> {
  const stack = await startStack({
    edges: 1,
    issuers: 2,
    env: {
      LOG_LEVEL: 'info',
      ISSUER_CONCURRENCY: CONCURRENCY,
      ACME_BUDGET_ORDERS: '100000/1s',
      ACME_BUDGET_REGISTERED_DOMAIN: '100000/1s',
    },
  });
  const redis = stack.redis.client();
  try {
    const rateNames = Array.from({ length: RATE_NAMES }, (_, i) => `rate-${i}.bench-${i % 50}.example.com`);
    const started = performance.now();
    const added = await cli(['domains', 'add', '--issue', ...rateNames], stack.env);
    if (added.code !== 0) throw new Error(added.stderr);
    await waitForCount(redis, stack.prefix, RATE_NAMES);
    const rateSeconds = (performance.now() - started) / 1000;

    const dir = mkdtempSync(join(tmpdir(), 'certfleet-bench-'));
    const file = join(dir, 'names.txt');
    writeFileSync(file, `${Array.from({ length: FILE_NAMES }, (_, i) => `file-${i}.shop-${i % 100}.example.net`).join('\n')}\n`);
    const fileStarted = performance.now();
    const imported = await cli(['domains', 'import', file, '--issue'], stack.env);
    if (imported.code !== 0) throw new Error(imported.stderr);
    const enqueuedSeconds = (performance.now() - fileStarted) / 1000;
    await waitForCount(redis, stack.prefix, RATE_NAMES + FILE_NAMES);
    const fileSeconds = (performance.now() - fileStarted) / 1000;

    const result = {
      issuers: 2,
      concurrencyPerIssuer: Number(CONCURRENCY),
      sustained: {
        names: RATE_NAMES,
        seconds: Number(rateSeconds.toFixed(1)),
        certificatesPerSecond: Number((RATE_NAMES / rateSeconds).toFixed(1)),
      },
      preProvision: {
        names: FILE_NAMES,
        enqueuedSeconds: Number(enqueuedSeconds.toFixed(1)),
        allIssuedSeconds: Number(fileSeconds.toFixed(1)),
      },
      ca: 'Pebble 2.6 (PEBBLE_VA_NOSLEEP=1), loopback, 2 cores',
      node: process.version,
      when: new Date().toISOString(),
    };
    mkdirSync(join(REPO_ROOT, 'bench', 'out'), { recursive: true });
    writeFileSync(join(REPO_ROOT, 'bench', 'out', 'issuance.json'), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      `sustained issuance, 2 issuers x ${CONCURRENCY}: ${result.sustained.certificatesPerSecond} certificates/s (${RATE_NAMES} names in ${result.sustained.seconds} s)\n` +
        `pre-provisioning ${FILE_NAMES} names from a file: enqueued in ${result.preProvision.enqueuedSeconds} s, all issued in ${result.preProvision.allIssuedSeconds} s\n`,
    );
  } finally {
    redis.disconnect();
    await stack.stop();
    await stopAll();
  }
}

main().catch(async (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  await stopAll();
  process.exit(1);
});
