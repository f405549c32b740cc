/**
 * First-request latency for new names: 20 names, one after another, each the first HTTPS
 * request the edge ever sees for it (handshake waits for issuance by Pebble, then the request is
 * proxied). Real processes on loopback: redis-server, Pebble 2.6 + challtestsrv, one edge, one
 * issuer. Run: `pnpm bench:first-request` (after `npm run setup`). Prints and writes
 * bench/out/first-request.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../test/support/certfleet.js';
import { REPO_ROOT, stopAll } from '../test/support/processes.js';
import { startStack } from '../test/support/stack.js';
import { httpsGet } from '../test/support/tls-client.js';

const COUNT = Number(process.env.BENCH_NAMES ?? 20);

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  const stack = await startStack({ edges: 1, issuers: 1, env: { LOG_LEVEL: 'info' } });
  try {
    const names = Array.from({ length: COUNT }, (_, i) => `first-${i}-${stack.prefix}.example.com`);
    const added = await cli(['domains', 'add', ...names], stack.env);
    if (added.code !== 0) throw new Error(added.stderr);
    const port = stack.edges[0]?.ports.httpsPort ?? 0;
    // One warm-up name, so the account and connections are open as in a running fleet.
    await cli(['domains', 'add', `warmup-${stack.prefix}.example.com`], stack.env);
    await httpsGet(port, `warmup-${stack.prefix}.example.com`, '/', stack.rootPem);
    const timings: number[] = [];
    for (const name of names) {
      const started = performance.now();
      const response = await httpsGet(port, name, '/', stack.rootPem);
      const elapsed = performance.now() - started;
      if (response.status !== 200) throw new Error(`${name}: status ${response.status}`);
      timings.push(elapsed);
    }
    const sorted = [...timings].sort((a, b) => a - b);
    const result = {
      names: COUNT,
      medianMs: Math.round(quantile(sorted, 0.5)),
      p90Ms: Math.round(quantile(sorted, 0.9)),
      minMs: Math.round(sorted[0] ?? NaN),
      maxMs: Math.round(sorted[sorted.length - 1] ?? NaN),
      timingsMs: timings.map(Math.round),
      ca: 'Pebble (PEBBLE_VA_NOSLEEP=1), loopback',
      node: process.version,
      when: new Date().toISOString(),
    };
    mkdirSync(join(REPO_ROOT, 'bench', 'out'), { recursive: true });
    writeFileSync(join(REPO_ROOT, 'bench', 'out', 'first-request.json'), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      `first request for a new name, ${COUNT} names in a row: median ${result.medianMs} ms, p90 ${result.p90Ms} ms, min ${result.minMs} ms, max ${result.maxMs} ms\n`,
    );
  } finally {
    await stack.stop();
    await stopAll();
  }
}

main().catch(async (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  await stopAll();
  process.exit(1);
});
