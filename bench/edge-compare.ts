/**
 * certfleet's edge side by side with Caddy 2.6 (on-demand TLS) and nginx (static certificate),
 * on loopback, with one Pebble, one redis-server, one upstream and one Pebble-issued ECDSA
 * certificate for all three; wrk (and the small clients in bench/lib/clients.ts) drive them in
 * turn, and each server's own CPU time is read from /proc. Issue 5's scenarios 1-6, and issue
 * 11's 7 (HTTP/2, h2load); writes bench/RESULTS.md, bench/results.svg and bench/out/edge-compare.json.
 * Run: `pnpm bench:edge` (bench/run.sh: Node 24 as the set-up provides it, caddy, nginx, wrk and
 * h2load installed when missing, then the build).
 * Knobs: BENCH_SECONDS (per run, default 8), BENCH_ROUNDS (3), BENCH_MANY_NAMES (100000),
 * BENCH_NEW_IN_A_ROW (20), BENCH_NEW_AT_ONCE (50), BENCH_WORKERS (edge processes, default cores).
 */
import { createPrivateKey } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { startAskEndpoint } from '../test/support/ask-endpoint.js';
import { cli, metric } from '../test/support/certfleet.js';
import { freePort, REPO_ROOT, stopAll } from '../test/support/processes.js';
import { startStack, type Stack } from '../test/support/stack.js';
import { createStore } from '../test/support/workspace.js';
import { firstRequest } from './lib/clients.js';
import { manyNames } from './lib/many-names.js';
import { newNames } from './lib/new-names.js';
import { peerDir, removePeerDirs, startCaddy, startNginxServer, startNginxUpstream } from './lib/peers.js';
import { nodeVersionsOfTree } from './lib/proc.js';
import { loadAverage, machine, versions, writeReport, type Report } from './lib/report.js';
import { runThroughput, SCENARIOS, settledReuseLog, summarise, type ServerUnderTest } from './lib/throughput.js';
import { tlsLoadBinary } from './lib/tls-load.js';

const num = (name: string, fallback: number, min: number, max: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
};

const SECONDS = num('BENCH_SECONDS', 8, 1, 120);
const ROUNDS = num('BENCH_ROUNDS', 3, 1, 10);
const MANY = num('BENCH_MANY_NAMES', 100_000, 0, 1_000_000);
const IN_A_ROW = num('BENCH_NEW_IN_A_ROW', 20, 1, 200);
const AT_ONCE = num('BENCH_NEW_AT_ONCE', 50, 1, 500);
const WORKERS = num('BENCH_WORKERS', availableParallelism(), 1, 64);
/** Scenario 6's handshakes stop after this long (what is not done then counts as failed). */
const MANY_SECONDS = num('BENCH_MANY_SECONDS', 480, 10, 3600);
/** The whole run is bounded: past this, everything is stopped and the run fails. */
const DEADLINE_MS = num('BENCH_DEADLINE_MINUTES', 25, 1, 240) * 60_000;
/** Scenarios 1-2: connections at a time (bench/tls-load.c threads). */
const HANDSHAKE_THREADS = 16;
/** Scenario 7: h2load's connections and streams in flight on each (issue 11: 10 × 10). */
const H2_CONNECTIONS = 10;
const H2_STREAMS = 10;
const NAME = 'bench.example.com';
/** Caddy listens on the same port numbers as the edge, on this other loopback address (see peers.ts). */
const CADDY_ADDRESS = '127.0.0.2';

const log = (line: string) => process.stdout.write(`${line}\n`);
/** Run before the processes are stopped, however the run ends (e.g. Redis clients, or they retry noisily). */
const cleanups: (() => void)[] = [];

async function issueBenchCertificate(stack: Stack, dir: string) {
  const added = await cli(['domains', 'add', NAME], stack.env);
  if (added.code !== 0) throw new Error(`certfleet domains add ${NAME}: ${added.stderr}`);
  const port = stack.edges[0]?.ports.httpsPort ?? 0;
  const first = await firstRequest({ address: '127.0.0.1', port }, NAME, stack.rootPem);
  if (!first.real) throw new Error(`the edge did not serve a Pebble certificate for ${NAME}: ${first.error}`);
  const redis = stack.redis.client();
  cleanups.push(() => redis.disconnect());
  const cert = await createStore(redis, stack.prefix, { keyring: stack.keyring }).certificates.get(NAME);
  if (!cert) throw new Error(`no stored certificate for ${NAME} after it was served`);
  if (createPrivateKey(cert.keyPem).asymmetricKeyType !== 'ec') throw new Error(`the certificate for ${NAME} is not ECDSA`);
  const chainPath = join(dir, 'chain.pem');
  const keyPath = join(dir, 'key.pem');
  writeFileSync(chainPath, cert.chainPem);
  writeFileSync(keyPath, cert.keyPem);
  chmodSync(keyPath, 0o600);
  const rootPath = join(dir, 'pebble-root.pem');
  writeFileSync(rootPath, stack.rootPem);
  return { cert, chainPath, keyPath, redis };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const startMachine = machine();
  tlsLoadBinary();
  // The benchmark certificate's chain and key, for nginx and Caddy; removed at the end.
  const dir = peerDir('certificate');
  log(`certfleet edge vs Caddy vs nginx: ${ROUNDS} rounds x ${SECONDS} s per scenario, ${WORKERS} edge processes`);
  const upstream = await startNginxUpstream(await freePort());
  const stack = await startStack({
    edges: 1,
    issuers: 1,
    env: { LOG_LEVEL: 'info', UPSTREAM_URL: upstream.url, EDGE_WORKERS: String(WORKERS) },
  });
  const edge = stack.edges[0];
  if (!edge) throw new Error('the stack started no edge');
  // Read from the edge's own processes: the Node it runs on, whatever runs this script.
  const edgeNode = nodeVersionsOfTree(edge.proc.child.pid as number);
  log(`the edge runs on Node ${edgeNode.join(', ')}`);
  const { cert, chainPath, keyPath, redis } = await issueBenchCertificate(stack, dir);
  log(`issued ${NAME} through certfleet (serial ${cert.serial}); nginx and Caddy serve the same chain and key`);

  const ask = await startAskEndpoint();
  cleanups.push(() => void ask.close());
  const nginxPort = await freePort();
  const nginx = await startNginxServer({ port: nginxPort, name: NAME, chainPath, keyPath, upstream: upstream.hostPort });
  const caddy = await startCaddy({
    address: CADDY_ADDRESS,
    httpPort: edge.ports.httpPort,
    httpsPort: edge.ports.httpsPort,
    name: NAME,
    chainPath,
    keyPath,
    upstream: upstream.hostPort,
    askUrl: ask.url,
    directoryUrl: stack.pebble.directoryUrl,
    caRootPath: stack.pebble.listenerCertPath,
  });
  const servers: ServerUnderTest[] = [
    {
      id: 'certfleet',
      pid: edge.proc.child.pid as number,
      target: { address: '127.0.0.1', port: edge.ports.httpsPort },
      handshakeCounts: async () => ({
        resumed: await metric(edge.ports.metricsPort, 'certfleet_edge_tls_handshakes_total', { resumed: 'yes' }),
        full: await metric(edge.ports.metricsPort, 'certfleet_edge_tls_handshakes_total', { resumed: 'no' }),
      }),
    },
    { id: 'caddy', pid: caddy.proc.child.pid as number, target: { address: CADDY_ADDRESS, port: caddy.httpsPort } },
    {
      id: 'nginx',
      pid: nginx.proc.child.pid as number,
      target: { address: '127.0.0.1', port: nginx.port },
      handshakeCounts: () => settledReuseLog(nginx.reuseLogPath),
    },
  ];
  for (const server of servers) {
    const check = await firstRequest(server.target, NAME, stack.rootPem);
    if (!check.real) throw new Error(`${server.id} does not serve ${NAME} with the Pebble certificate: ${check.error}`);
  }

  log(
    `scenarios 1-4 and 7: full handshakes, resumed handshakes, keep-alive requests, paced latency, HTTP/2 (${H2_CONNECTIONS} x ${H2_STREAMS} streams)`,
  );
  const runs = await runThroughput(servers, {
    name: NAME,
    seconds: SECONDS,
    rounds: ROUNDS,
    pacedConnections: 10,
    pacedDelayMs: 20,
    handshakeThreads: HANDSHAKE_THREADS,
    h2Connections: H2_CONNECTIONS,
    h2Streams: H2_STREAMS,
    log,
  });

  log(`scenario 5: first request for new names (${IN_A_ROW} in a row, ${AT_ONCE} at once)`);
  const certfleetNew = await newNames(servers[0]!.target, stack.rootPem, 'cf', { inARow: IN_A_ROW, atOnce: AT_ONCE }, async (names) => {
    const added = await cli(['domains', 'add', ...names], stack.env);
    if (added.code !== 0) throw new Error(`certfleet domains add: ${added.stderr}`);
  });
  log(`  certfleet: ${JSON.stringify(certfleetNew)}`);
  const caddyNew = await newNames(servers[1]!.target, stack.rootPem, 'caddy', { inARow: IN_A_ROW, atOnce: AT_ONCE }, async (names) => {
    for (const name of names) {
      ask.set(name, 'allow');
      await stack.pebble.challtest('add-a', { host: name, addresses: [CADDY_ADDRESS] });
    }
  });
  log(`  caddy: ${JSON.stringify(caddyNew)}`);

  // The peers are done: stop them so the fresh edge has the machine to itself.
  await Promise.all([caddy.proc.stop(), nginx.proc.stop(), edge.proc.stop()]);
  let many: Awaited<ReturnType<typeof manyNames>> | undefined;
  if (MANY > 0) {
    log(`scenario 6: an edge in front of ${MANY} stored names`);
    many = await manyNames({
      redis,
      prefix: stack.prefix,
      env: stack.env,
      cert,
      keyring: stack.keyring,
      count: MANY,
      workers: WORKERS,
      maxSeconds: MANY_SECONDS,
      log,
    });
  }

  const report: Report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    settings: {
      seconds: SECONDS,
      rounds: ROUNDS,
      edgeWorkers: WORKERS,
      name: NAME,
      pacedConnections: 10,
      pacedDelayMs: 20,
      handshakeThreads: HANDSHAKE_THREADS,
      h2Connections: H2_CONNECTIONS,
      h2Streams: H2_STREAMS,
    },
    machine: { ...startMachine, loadAtEnd: loadAverage() },
    versions: versions(edgeNode),
    runs,
    summaries: Object.fromEntries(
      (['certfleet', 'caddy', 'nginx'] as const).map((id) => [id, Object.fromEntries(SCENARIOS.map((s) => [s, summarise(runs, id, s)]))]),
    ) as Report['summaries'],
    newNames: { certfleet: certfleetNew, caddy: caddyNew },
    many,
  };
  mkdirSync(join(REPO_ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(REPO_ROOT, 'bench', 'out', 'edge-compare.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeReport(report);
  log('wrote bench/RESULTS.md, bench/results.svg and bench/out/edge-compare.json');
}

/** `--rewrite-report`: write RESULTS.md and the chart again from bench/out/edge-compare.json (after a change to the report's wording). */
if (process.argv.includes('--rewrite-report')) {
  writeReport(JSON.parse(readFileSync(join(REPO_ROOT, 'bench', 'out', 'edge-compare.json'), 'utf8')) as Report);
  log('wrote bench/RESULTS.md and bench/results.svg from bench/out/edge-compare.json');
  process.exit(0);
}

const deadline = setTimeout(() => {
  process.stderr.write(`the benchmark ran past ${DEADLINE_MS / 60_000} minutes; stopping everything\n`);
  for (const cleanup of cleanups.splice(0)) cleanup();
  void stopAll().finally(() => process.exit(1));
}, DEADLINE_MS);
deadline.unref();

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`${signal}: stopping every process the benchmark started\n`);
    for (const cleanup of cleanups.splice(0)) cleanup();
    void stopAll().finally(() => process.exit(130));
  });
}

main()
  .then(async () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    await stopAll();
    removePeerDirs();
    process.exit(0);
  })
  .catch(async (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    for (const cleanup of cleanups.splice(0)) cleanup();
    await stopAll();
    removePeerDirs();
    process.exit(1);
  });
