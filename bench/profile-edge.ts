/**
 * Profiles one edge process (EDGE_WORKERS=1) under load with Node's --cpu-prof and prints where
 * its samples went: by area (native work such as TLS and syscalls, undici, certfleet's own
 * code, Node's internals) and the top functions by self time. Not a benchmark: the profiler
 * slows the process; use the requests or handshakes per CPU-second printed with PROFILE=off.
 *
 *   pnpm bench:profile keepalive   wrk -t2 -c32 keep-alive proxied requests (scenario 3)
 *   pnpm bench:profile full        full handshakes, no session offered (scenario 1's client)
 * Knobs: PROFILE_SECONDS (8), PROFILE_TOP (30), PROFILE=off (no profiler: CPU per unit only).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, edgeEnv, edgePorts, startRole } from '../test/support/certfleet.js';
import { stopAll } from '../test/support/processes.js';
import { startStack } from '../test/support/stack.js';
import { firstRequest } from './lib/clients.js';
import { runLoad, tlsLoadBinary } from './lib/tls-load.js';
import { runWrk } from './lib/wrk.js';

const mode = process.argv[2] === 'full' ? 'full' : 'keepalive';
const seconds = Number(process.env.PROFILE_SECONDS ?? 8);
const profiling = process.env.PROFILE !== 'off';
const NAME = 'profile.example.com';
const dir = mkdtempSync(join(tmpdir(), 'certfleet-profile-'));
mkdirSync(dir, { recursive: true });

/** CPU seconds (user + system) a process has used, from /proc. */
const cpuOf = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

if (mode === 'full') tlsLoadBinary();
const stack = await startStack({});
try {
  await cli(['domains', 'add', NAME], stack.env);
  const issued = await firstRequest({ address: '127.0.0.1', port: stack.edges[0]?.ports.httpsPort ?? 0 }, NAME, stack.rootPem);
  if (!issued.real) throw new Error(`no certificate was issued for ${NAME}: ${issued.error}`);
  const ports = await edgePorts();
  const edge = await startRole(
    'edge',
    { ...stack.env, ...edgeEnv(ports), EDGE_WORKERS: '1', ...(profiling ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` } : {}) },
    'profiled-edge',
  );
  const pid = edge.child.pid as number;
  const url = `https://${NAME}:${ports.httpsPort}/`;
  const target = { address: '127.0.0.1', port: ports.httpsPort };
  if (mode === 'keepalive') await runWrk({ url, connectAddress: '127.0.0.1', threads: 2, connections: 32, seconds: 2 });
  const before = cpuOf(pid);
  let units: number;
  if (mode === 'keepalive') units = (await runWrk({ url, connectAddress: '127.0.0.1', threads: 2, connections: 32, seconds })).requests;
  else {
    const load = await runLoad({ target, name: NAME, mode: 'full', seconds, threads: 16 });
    units = load.connections - load.resumed;
  }
  const cpu = cpuOf(pid) - before;
  process.stdout.write(
    `${mode}: ${units} in ${seconds} s, edge ${cpu.toFixed(2)} CPU-s: ${(units / cpu).toFixed(0)} per CPU-s${profiling ? ' (profiler on)' : ''}\n`,
  );
  await edge.stop();
} finally {
  await stack.stop();
  await stopAll();
}

const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
if (profiling && file) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: { callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number }[];
  };
  const total = profile.nodes.reduce((sum, node) => sum + node.hitCount, 0);
  const areaOf = (fn: string, url: string) => {
    if (['(idle)', '(program)', '(garbage collector)'].includes(fn)) return fn;
    if (url === '') return 'native (TLS, syscalls, compiled code)';
    if (url.includes('/apps/edge/') || url.includes('/packages/')) return 'certfleet';
    if (url.includes('undici')) return 'undici';
    if (url.includes('node_modules')) return 'other dependencies';
    return url.startsWith('node:') ? 'Node internals' : 'other';
  };
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const { callFrame, hitCount } of profile.nodes) {
    const area = areaOf(callFrame.functionName, callFrame.url);
    byArea.set(area, (byArea.get(area) ?? 0) + hitCount);
    const where = callFrame.url.replace(/^.*\/(node_modules|apps|packages)\//, '$1/');
    const key = `${callFrame.functionName || '(anonymous)'} ${where}:${callFrame.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + hitCount);
  }
  const pct = (n: number) => `${((100 * n) / total).toFixed(1).padStart(5)} %`;
  process.stdout.write(`\n${total} samples, by area:\n`);
  for (const [area, n] of [...byArea].sort((a, b) => b[1] - a[1])) process.stdout.write(`${pct(n)}  ${area}\n`);
  process.stdout.write('\ntop functions by self time:\n');
  for (const [key, n] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_TOP ?? 30))) {
    process.stdout.write(`${pct(n)}  ${key}\n`);
  }
}
process.exit(0);
