/**
 * The benchmark's report: bench/RESULTS.md (every figure of one run, versions, machine, method)
 * and bench/results.svg (the ratios to Caddy as a bar chart, drawn here: no chart library).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../test/support/processes.js';
import type { ManyNamesResult } from './many-names.js';
import type { NewNamesResult } from './new-names.js';
import { NGINX, versionOf } from './peers.js';
import type { Run, ScenarioId, ScenarioSummary, ServerId } from './throughput.js';

export interface Report {
  startedAt: string;
  finishedAt: string;
  settings: {
    seconds: number;
    rounds: number;
    edgeWorkers: number;
    name: string;
    pacedConnections: number;
    pacedDelayMs: number;
    handshakeThreads: number;
  };
  machine: { cores: number; cpu: string; memoryGb: number; kernel: string; loadAtStart: string; loadAtEnd?: string };
  versions: Record<string, string>;
  runs: Run[];
  summaries: Record<ServerId, Record<ScenarioId, ScenarioSummary>>;
  newNames: { certfleet: NewNamesResult; caddy: NewNamesResult };
  many: ManyNamesResult | undefined;
}

export function machine(): Report['machine'] {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    loadAtStart: loadAverage(),
  };
}

/** /proc/loadavg's 1, 5 and 15 minute averages: whether the machine was quiet. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

export function versions(): Record<string, string> {
  return {
    caddy: versionOf('caddy', ['version']),
    nginx: versionOf(NGINX, ['-v']).replace(/^nginx version: /, ''),
    wrk: versionOf('wrk', ['-v']).replace(/ \[.*$/, ''),
    node: process.version,
    openssl: versionOf('openssl', ['version']).replace(/ \(Library.*$/, ''),
    'node openssl': process.versions.openssl ?? 'unknown',
  };
}

const SERVERS: readonly ServerId[] = ['certfleet', 'caddy', 'nginx'];
const THROUGHPUT: { id: ScenarioId; title: string }[] = [
  { id: 'full', title: '1. Full handshakes per server CPU-second' },
  { id: 'resumed', title: '2. Resumed handshakes per server CPU-second' },
  { id: 'keepalive', title: '3. Keep-alive proxied requests per server CPU-second' },
];

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);

/** What scenario 2 proves: every offered ticket resumed, and how the edge's processes shared the work. */
function resumptionEvidence(report: Report): string[] {
  const lines: string[] = [];
  for (const server of SERVERS) {
    const runs = report.runs.filter((r) => r.server === server && r.scenario === 'resumed');
    const offered = runs.reduce((a, r) => a + (r.connections ?? 0), 0);
    const resumed = runs.reduce((a, r) => a + (r.resumed ?? 0), 0);
    lines.push(`- ${server}: ${fmt(resumed)} of ${fmt(offered)} connections in scenario 2 resumed the offered ticket (the client's \`SSL_session_reused\`).`);
  }
  const edgeRuns = report.runs.filter((r) => r.server === 'certfleet' && r.scenario === 'resumed');
  const shares = edgeRuns.map((r) => {
    const total = Object.values(r.cpuPerProcess).reduce((a, b) => a + b, 0);
    return Object.values(r.cpuPerProcess).map((s) => Math.round((100 * s) / Math.max(total, 0.01)));
  });
  const busy = shares.map((s) => s.filter((p) => p >= 10).length);
  lines.push(
    `- certfleet edge processes' shares of the edge's CPU in each resumed run: ${shares.map((s) => `[${s.join('%, ')}%]`).join(', ')}. ` +
      (Math.min(...busy) >= 2
        ? 'More than one process did real work while every connection offered one ticket issued by a single process and (see above) resumed: tickets crossed processes.'
        : 'Only one edge process did the work: resumption across processes is not shown by this run (the edge ran a single process, or the primary served every connection).'),
  );
  const full = report.runs.filter((r) => r.scenario === 'full');
  const offeredFull = full.reduce((a, r) => a + (r.connections ?? 0), 0);
  const resumedFull = full.reduce((a, r) => a + (r.resumed ?? 0), 0);
  lines.push(
    `- Scenario 1 resumed nothing: ${fmt(resumedFull)} of ${fmt(offeredFull)} connections over all servers were resumptions (the client offers no session). ` +
      '(wrk is not used for handshakes: it resumes its sessions, see bench/tls-load.c.)',
  );
  for (const server of SERVERS) {
    const counted = (scenario: ScenarioId) => {
      const runs = report.runs.filter((r) => r.server === server && r.scenario === scenario && r.serverCounts);
      if (!runs.length) return undefined;
      return `${fmt(runs.reduce((a, r) => a + (r.serverCounts?.resumed ?? 0), 0))} resumed / ${fmt(runs.reduce((a, r) => a + (r.serverCounts?.full ?? 0), 0))} full`;
    };
    const one = counted('full');
    const two = counted('resumed');
    if (one && two) {
      const source = server === 'nginx' ? "its `$ssl_session_reused` log" : server === 'certfleet' ? 'its `certfleet_edge_tls_handshakes_total`' : 'its own count';
      lines.push(`- ${server}'s side (${source}): scenario 1 ${one}; scenario 2 ${two} (the full ones: the client's first handshake of each run).`);
    }
  }
  const processes = SERVERS.map((id) => {
    const counts = report.runs.filter((r) => r.server === id).map((r) => Object.keys(r.cpuPerProcess).length);
    return `${id} ${Math.max(...counts)}`;
  });
  lines.push(`- Processes seen in each server's tree during the runs: ${processes.join(', ')}.`);
  return lines;
}

/** Issue 5's targets against this run's figures. */
export function targets(report: Report): { target: string; measured: string; met: boolean }[] {
  const s = report.summaries;
  const full = ratio(s.certfleet.full.perCpuSecond, s.caddy.full.perCpuSecond);
  const keepalive = ratio(s.certfleet.keepalive.perCpuSecond, s.caddy.keepalive.perCpuSecond);
  const row = report.newNames.certfleet.inARow;
  const burst = report.newNames.certfleet.atOnce;
  const rows = [
    { target: 'full handshakes per CPU-s ≥ 1.1× Caddy', measured: `${fmt(full, 2)}×`, met: full >= 1.1 },
    { target: 'keep-alive requests per CPU-s ≥ 1.1× Caddy', measured: `${fmt(keepalive, 2)}×`, met: keepalive >= 1.1 },
    { target: 'first request for a new name: p50 ≤ 150 ms', measured: `${fmt(row.p50Ms)} ms`, met: row.p50Ms <= 150 },
    { target: `new names at once: every one a real certificate`, measured: `${burst.real} of ${burst.names}`, met: burst.real === burst.names },
    { target: 'new names at once: p50 ≤ 1.5 s, max ≤ 4 s', measured: `p50 ${fmt(burst.p50Ms)} ms, max ${fmt(burst.maxMs)} ms`, met: burst.p50Ms <= 1500 && burst.maxMs <= 4000 },
  ];
  if (report.many) {
    rows.push(
      {
        target: `edge RSS after handshakes for ${fmt(report.many.names)} distinct names ≤ 512 MB`,
        measured:
          `${fmt(report.many.rssAfterMb)} MB` +
          (report.many.handshakes.ok < report.many.names ? ` after only ${fmt(report.many.handshakes.ok)} handshakes (the rest not reached in time)` : ''),
        met: report.many.rssAfterMb <= 512 && report.many.handshakes.ok === report.many.names,
      },
      { target: 'first handshake ≤ 1 s after start, names stored', measured: `${fmt(report.many.firstHandshakeMs)} ms`, met: report.many.firstHandshakeMs <= 1000 },
    );
  }
  return rows;
}

function newNamesRow(server: string, r: NewNamesResult['inARow']): string {
  const failures = Object.entries(r.failures).map(([why, n]) => `${n}× ${why}`).join('; ');
  return `| ${server} | ${r.real} of ${r.names} | ${fmt(r.p50Ms)} | ${fmt(r.p90Ms)} | ${fmt(r.maxMs)} | ${failures || '-'} |`;
}

export function markdown(report: Report): string {
  const s = report.summaries;
  const out: string[] = [];
  out.push('# Edge benchmark: certfleet vs Caddy vs nginx', '');
  out.push(
    `One run of \`pnpm bench:edge\`, ${report.startedAt} to ${report.finishedAt}: ${report.settings.rounds} rounds × ${report.settings.seconds} s per scenario and server, ` +
      `certfleet edge with \`EDGE_WORKERS=${report.settings.edgeWorkers}\`. Figures are per second of the server's **own** CPU (user + system, its whole process tree, from /proc).`,
    '',
    '![ratios to Caddy](results.svg)',
    '',
  );
  out.push(
    `**Machine:** ${report.machine.cores} cores, ${report.machine.cpu}, ${report.machine.memoryGb} GB, Linux ${report.machine.kernel}; ` +
      `load average (1, 5, 15 min) ${report.machine.loadAtStart} at the start, ${report.machine.loadAtEnd ?? 'n/a'} at the end (the benchmark itself adds about 2-3).  `,
  );
  out.push(`**Versions:** ${Object.entries(report.versions).map(([k, v]) => `${k}: ${v}`).join(' · ')}`, '');
  for (const t of THROUGHPUT) {
    out.push(`## ${t.title}`, '', '| server | per CPU-s | ratio to Caddy | per round | per wall-clock s | errors |', '|---|---:|---:|---|---:|---:|');
    for (const id of SERVERS) {
      const x = s[id][t.id];
      out.push(`| ${id} | ${fmt(x.perCpuSecond)} | ${fmt(ratio(x.perCpuSecond, s.caddy[t.id].perCpuSecond), 2)}× | ${x.perRound.map((n) => fmt(n)).join(', ')} | ${fmt(x.perWallSecond)} | ${x.errors} |`);
    }
    out.push('');
  }
  out.push(
    `## 4. Latency at a fixed rate`,
    '',
    `${report.settings.pacedConnections} keep-alive connections, each waiting ${report.settings.pacedDelayMs} ms (wrk's Lua \`delay()\`) before each request: at most ` +
      `${fmt((report.settings.pacedConnections * 1000) / report.settings.pacedDelayMs)} requests/s. Median of the rounds' percentiles.`,
    '',
    '| server | p50 ms | p99 ms | p50 ratio to Caddy | p99 ratio to Caddy | requests/s achieved |',
    '|---|---:|---:|---:|---:|---:|',
  );
  for (const id of SERVERS) {
    const x = s[id].paced;
    out.push(`| ${id} | ${fmt(x.p50Ms ?? NaN, 3)} | ${fmt(x.p99Ms ?? NaN, 3)} | ${fmt(ratio(x.p50Ms ?? NaN, s.caddy.paced.p50Ms ?? NaN), 2)}× | ${fmt(ratio(x.p99Ms ?? NaN, s.caddy.paced.p99Ms ?? NaN), 2)}× | ${fmt(x.perWallSecond)} |`);
  }
  const n = report.newNames;
  out.push(
    '',
    '## 5. First request for new names (certfleet vs Caddy on-demand)',
    '',
    'Each request by a TLS client verifying the chain against Pebble\'s root for the name (the fallback certificate counts as a failure); latencies are over all requests, failed ones included; one warm-up name first ' +
      `(certfleet ${fmt(n.certfleet.warmupMs)} ms${n.certfleet.warmupReal ? '' : ', the fallback at first'}, Caddy ${fmt(n.caddy.warmupMs)} ms${n.caddy.warmupReal ? '' : ', a failure at first'}).`,
    '',
    '| in a row | real certificate | p50 ms | p90 ms | max ms | failures |',
    '|---|---:|---:|---:|---:|---|',
    newNamesRow('certfleet', n.certfleet.inARow),
    newNamesRow('caddy', n.caddy.inARow),
    '',
    '| all at once | real certificate | p50 ms | p90 ms | max ms | failures |',
    '|---|---:|---:|---:|---:|---|',
    newNamesRow('certfleet', n.certfleet.atOnce),
    newNamesRow('caddy', n.caddy.atOnce),
    '',
  );
  out.push('## 6. Edge memory with many stored names', '');
  if (report.many) {
    const m = report.many;
    out.push(
      `${fmt(m.names)} certificate records written through the store API in ${m.writeSeconds} s (${m.record}). A fresh edge (\`EDGE_WORKERS=${report.settings.edgeWorkers}\`) ` +
        `served its first handshake **${fmt(m.firstHandshakeMs)} ms** after it was spawned (an edge with one stored name: ${fmt(m.controlFirstHandshakeMs)} ms; RSS then ${m.rssAfterFirstMb} MB); after ${fmt(m.handshakes.ok)} handshakes with distinct SNI ` +
        `(${fmt(m.handshakes.failed)} failed, ${fmt(m.handshakes.notReached)} not reached within the time allowed, ${m.handshakes.seconds} s), ` +
        `the edge's process tree (${m.processes} processes) held **${fmt(m.rssAfterMb)} MB** resident (${m.perProcessMb.map((x) => `${x} MB`).join(' + ')}).`,
      '',
    );
  } else out.push('Not run (BENCH_MANY_NAMES=0).', '');
  out.push('## Issue 5\'s targets', '', '| target | measured | met |', '|---|---|---|', ...targets(report).map((t) => `| ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`), '');
  out.push('## Checks', '', ...resumptionEvidence(report), '');
  out.push(
    '## Method',
    '',
    '- Everything on loopback, free ports: one Pebble 2.6 (`PEBBLE_VA_NOSLEEP=1`) with challtestsrv as its DNS, one redis-server, one upstream: a one-worker nginx answering a 20-byte body ' +
      '(C, a few µs a request, so it does not dominate; its CPU is counted for no server). The certificate for the benchmark name is issued by Pebble through certfleet; nginx and Caddy are given its chain and key.',
    '- certfleet: `certfleet run edge` (+ one issuer), `EDGE_WORKERS` processes. Caddy: Debian\'s package, Caddyfile with the static certificate for the benchmark name and `on_demand` TLS ' +
      '(ask endpoint, `acme_ca` = the same Pebble) for any other name; it listens on 127.0.0.2 with the edge\'s port numbers, because Pebble validates every name on one HTTP and one TLS port (challtestsrv resolves Caddy\'s names to 127.0.0.2). ' +
      'nginx: `worker_processes auto`, session cache and tickets on, keep-alive to the upstream. All three add X-Forwarded-* headers.',
    '- Rounds alternate the servers (A B C, A B C) for each scenario. CPU: utime + stime of the server\'s process tree from /proc/PID/stat before and after each run (the clients\' CPU is not counted).',
    `- 1 and 2: bench/tls-load.c (C, OpenSSL), ${report.settings.handshakeThreads} connections at a time, one \`GET /\` with \`Connection: close\` per connection; ` +
      '1 offers no session (a full handshake each), 2 offers on every connection the ticket of one first full handshake (TLS 1.3: a resumption still does an ECDHE exchange, but sends no certificate and signs nothing). ' +
      'Not wrk: wrk 4.1.0 resumes its sessions when it reconnects (nginx logged 1,143 of 1,175 wrk connections as resumed). 3: `wrk -t2 -c64` keep-alive. 4: `wrk -t2` with the paced connections above.',
    '- 6: one handshake per stored name (bench/tls-load.c, 32 at a time, no request), RSS = sum of VmRSS of the edge\'s processes (shared pages counted in each).',
    '- Run: `pnpm bench:edge`; knobs `BENCH_SECONDS`, `BENCH_ROUNDS`, `BENCH_MANY_NAMES`, `BENCH_WORKERS`. Raw figures: `bench/out/edge-compare.json`.',
    '',
  );
  return out.join('\n');
}

/** The ratios to Caddy (scenarios 1-3) as grouped bars, with Caddy's 1.0 and the 1.1 target as lines. */
export function svgChart(report: Report): string {
  const width = 640;
  const height = 320;
  const left = 50;
  const bottom = 260;
  const top = 40;
  const values = THROUGHPUT.flatMap((t) => SERVERS.map((id) => ratio(report.summaries[id][t.id].perCpuSecond, report.summaries.caddy[t.id].perCpuSecond)));
  const max = Math.max(1.5, ...values.filter(Number.isFinite)) * 1.1;
  const y = (v: number) => Math.round((bottom - ((bottom - top) * v) / max) * 10) / 10;
  const colors: Record<ServerId, string> = { certfleet: '#2b6cb0', caddy: '#718096', nginx: '#38a169' };
  const groupWidth = (width - left - 20) / THROUGHPUT.length;
  const bar = 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">Per server CPU-second, ratio to Caddy 2.6 (higher is better)</text>`,
    `<line x1="${left}" y1="${bottom}" x2="${width - 10}" y2="${bottom}" stroke="black"/>`,
  ];
  // Caddy's 1.0 labelled on the left, the 1.1 target on the right: they are a few pixels apart.
  parts.push(`<line x1="${left}" y1="${y(1)}" x2="${width - 10}" y2="${y(1)}" stroke="#718096"/>`);
  parts.push(`<text x="${left - 4}" y="${y(1) + 4}" text-anchor="end" font-size="10">1.0</text>`);
  parts.push(`<line x1="${left}" y1="${y(1.1)}" x2="${width - 10}" y2="${y(1.1)}" stroke="#c53030" stroke-dasharray="4 3"/>`);
  parts.push(`<text x="${width - 10}" y="${y(1.1) - 4}" text-anchor="end" font-size="10" fill="#c53030">target 1.1</text>`);
  THROUGHPUT.forEach((t, g) => {
    const x0 = left + g * groupWidth + (groupWidth - SERVERS.length * bar) / 2;
    SERVERS.forEach((id, i) => {
      const v = ratio(report.summaries[id][t.id].perCpuSecond, report.summaries.caddy[t.id].perCpuSecond);
      const h = Number.isFinite(v) ? bottom - y(v) : 0;
      const x = x0 + i * bar;
      parts.push(`<rect x="${x + 3}" y="${bottom - h}" width="${bar - 6}" height="${h}" fill="${colors[id]}"/>`);
      parts.push(`<text x="${x + bar / 2}" y="${bottom - h - 4}" text-anchor="middle" font-size="10">${fmt(v, 2)}</text>`);
    });
    parts.push(`<text x="${x0 + (SERVERS.length * bar) / 2}" y="${bottom + 18}" text-anchor="middle">${t.title.replace(/^\d\. /, '').replace(' per server CPU-second', '')}</text>`);
  });
  SERVERS.forEach((id, i) => {
    parts.push(`<rect x="${left + i * 120}" y="${height - 24}" width="12" height="12" fill="${colors[id]}"/>`);
    parts.push(`<text x="${left + i * 120 + 16}" y="${height - 14}">${id}</text>`);
  });
  parts.push('</svg>', '');
  return parts.join('\n');
}

export function writeReport(report: Report): void {
  writeFileSync(join(REPO_ROOT, 'bench', 'RESULTS.md'), markdown(report));
  writeFileSync(join(REPO_ROOT, 'bench', 'results.svg'), svgChart(report));
}
