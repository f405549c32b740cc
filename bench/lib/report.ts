/**
 * The benchmark's report: bench/RESULTS.md (every figure of one run, versions, machine, method)
 * and bench/results.svg (the ratios to Caddy as a bar chart, see chart.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../test/support/processes.js';
import type { ManyNamesResult } from './many-names.js';
import type { NewNamesResult } from './new-names.js';
import { NGINX, versionOf } from './peers.js';
import { svgChart } from './chart.js';
import { fmt, h2Missing, h2PerCpuSecond, protocolsOf, ratio, SERVERS, THROUGHPUT } from './figures.js';
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
    /** Scenario 7 (absent from runs before it existed). */
    h2Connections?: number;
    h2Streams?: number;
  };
  machine: { cores: number; cpu: string; memoryGb: number; kernel: string; loadAtStart: string; loadAtEnd?: string };
  versions: Record<string, string>;
  runs: Run[];
  /** Per server and scenario; HTTP/2 is absent from runs made before scenario 7 existed. */
  summaries: Record<ServerId, Record<Exclude<ScenarioId, 'h2'>, ScenarioSummary> & { h2?: ScenarioSummary }>;
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

/**
 * The versions of everything measured and measuring. `edgeNode`: what the edge's processes ran
 * on, read from them (see nodeVersionsOfTree); the benchmark's own Node drives the TLS clients of
 * scenarios 5 and 6 only.
 */
export function versions(edgeNode: readonly string[]): Record<string, string> {
  return {
    'edge node': edgeNode.join(', ') || 'unknown',
    caddy: versionOf('caddy', ['version']),
    nginx: versionOf(NGINX, ['-v']).replace(/^nginx version: /, ''),
    wrk: versionOf('wrk', ['-v']).replace(/ \[.*$/, ''),
    h2load: versionOf('h2load', ['--version']).replace(/^h2load /, ''),
    'benchmark node': process.version,
    openssl: versionOf('openssl', ['version']).replace(/ \(Library.*$/, ''),
  };
}

/** What scenario 2 proves: every offered ticket resumed, and how the edge's processes shared the work. */
function resumptionEvidence(report: Report): string[] {
  const lines: string[] = [];
  for (const server of SERVERS) {
    const runs = report.runs.filter((r) => r.server === server && r.scenario === 'resumed');
    const offered = runs.reduce((a, r) => a + (r.connections ?? 0), 0);
    const resumed = runs.reduce((a, r) => a + (r.resumed ?? 0), 0);
    lines.push(
      `- ${server}: ${fmt(resumed)} of ${fmt(offered)} connections in scenario 2 resumed the offered ticket (the client's \`SSL_session_reused\`).`,
    );
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
      const source =
        server === 'nginx'
          ? 'its `$ssl_session_reused` log'
          : server === 'certfleet'
            ? 'its `certfleet_edge_tls_handshakes_total`'
            : 'its own count';
      lines.push(
        `- ${server}'s side (${source}): scenario 1 ${one}; scenario 2 ${two} (the full ones: the client's first handshake of each run).`,
      );
    }
  }
  const processes = SERVERS.map((id) => {
    const counts = report.runs.filter((r) => r.server === id).map((r) => Object.keys(r.cpuPerProcess).length);
    return `${id} ${Math.max(...counts)}`;
  });
  lines.push(`- Processes seen in each server's tree during the runs: ${processes.join(', ')}.`);
  return lines;
}

/** The HTTP/2 target's measured cell: the ratio, or why there is none. */
function h2Measured(report: Report): { measured: string; value: number } {
  const value = ratio(h2PerCpuSecond(report, 'certfleet'), h2PerCpuSecond(report, 'caddy'));
  if (Number.isFinite(value)) return { measured: `${fmt(value, 2)}×`, value };
  const why = (['certfleet', 'caddy'] as const)
    .filter((id) => !Number.isFinite(h2PerCpuSecond(report, id)))
    .map((id) => h2Missing(report, id));
  return { measured: `not measured: ${[...new Set(why)].join('; ')}`, value };
}

/** Issues 5 and 11's targets against this run's figures. */
function targets(report: Report): { target: string; measured: string; met: boolean }[] {
  const s = report.summaries;
  const full = ratio(s.certfleet.full.perCpuSecond, s.caddy.full.perCpuSecond);
  const resumed = ratio(s.certfleet.resumed.perCpuSecond, s.caddy.resumed.perCpuSecond);
  const keepalive = ratio(s.certfleet.keepalive.perCpuSecond, s.caddy.keepalive.perCpuSecond);
  const h2 = h2Measured(report);
  const p99 = ratio(s.certfleet.paced.p99Ms ?? NaN, s.caddy.paced.p99Ms ?? NaN);
  const row = report.newNames.certfleet.inARow;
  const burst = report.newNames.certfleet.atOnce;
  const h2Shape = `${report.settings.h2Connections ?? 10} connections × ${report.settings.h2Streams ?? 10} streams`;
  const rows = [
    { target: 'full handshakes per CPU-s ≥ 1.1× Caddy', measured: `${fmt(full, 2)}×`, met: full >= 1.1 },
    { target: 'resumed handshakes (across processes) per CPU-s ≥ 1.1× Caddy', measured: `${fmt(resumed, 2)}×`, met: resumed >= 1.1 },
    { target: 'keep-alive requests per CPU-s ≥ 1.1× Caddy', measured: `${fmt(keepalive, 2)}×`, met: keepalive >= 1.1 },
    { target: `HTTP/2, h2load, ${h2Shape} ≥ 1.0× Caddy`, measured: h2.measured, met: h2.value >= 1.0 },
    { target: 'p99 at a fixed rate ≤ 1.0× Caddy', measured: `${fmt(p99, 2)}×`, met: p99 <= 1.0 },
    { target: 'first request for a new name: p50 ≤ 150 ms', measured: `${fmt(row.p50Ms)} ms`, met: row.p50Ms <= 150 },
    {
      target: `new names at once: every one a real certificate`,
      measured: `${burst.real} of ${burst.names}`,
      met: burst.real === burst.names,
    },
    {
      target: 'new names at once: p50 ≤ 1.5 s, max ≤ 4 s',
      measured: `p50 ${fmt(burst.p50Ms)} ms, max ${fmt(burst.maxMs)} ms`,
      met: burst.p50Ms <= 1500 && burst.maxMs <= 4000,
    },
  ];
  if (report.many) {
    const m = report.many;
    const pss = m.pssAfterMb;
    rows.push(
      {
        target: `edge memory after handshakes for ${fmt(m.names)} distinct names, counted once (PSS over its processes) ≤ 512 MB`,
        measured:
          (pss === undefined
            ? `PSS not measured in this run (RSS summed ${fmt(m.rssAfterMb)} MB)`
            : `${fmt(pss)} MB PSS (RSS summed: ${fmt(m.rssAfterMb)} MB)`) +
          (m.handshakes.ok < m.names ? ` after only ${fmt(m.handshakes.ok)} handshakes (the rest not reached in time)` : ''),
        met: pss !== undefined && pss <= 512 && m.handshakes.ok === m.names,
      },
      {
        target: 'first handshake ≤ 1 s after start, names stored',
        measured: `${fmt(report.many.firstHandshakeMs)} ms`,
        met: report.many.firstHandshakeMs <= 1000,
      },
    );
  }
  return rows;
}

/** Scenario 7: HTTP/2 requests per CPU-second, with what each server negotiated. */
function h2Section(report: Report): string[] {
  const c = report.settings.h2Connections ?? 10;
  const m = report.settings.h2Streams ?? 10;
  const out = [`## 7. HTTP/2 proxied requests per server CPU-second (h2load, ${c} connections × ${m} streams)`, ''];
  if (!report.summaries.certfleet.h2) return [...out, 'Not run (this run predates scenario 7).', ''];
  out.push(
    'Keep-alive requests over HTTP/2, proxied to the same HTTP/1.1 upstream. Only runs where ALPN chose h2 are counted (h2load falls back to HTTP/1.1 with pipelining otherwise); "negotiated" gives the runs by protocol.',
    '',
    '| server | negotiated | per CPU-s | ratio to Caddy | per round | per wall-clock s | errors |',
    '|---|---|---:|---:|---|---:|---:|',
  );
  const caddy = h2PerCpuSecond(report, 'caddy');
  for (const id of SERVERS) {
    const x = report.summaries[id].h2;
    if (!x) continue;
    const mine = h2PerCpuSecond(report, id);
    const rounds = report.runs.filter((r) => r.server === id && r.scenario === 'h2');
    const perRound = rounds.map((r) =>
      r.protocol === 'h2' ? fmt(r.cpuSeconds > 0 ? r.count / r.cpuSeconds : NaN) : `(${r.protocol ?? 'none'})`,
    );
    const toCaddy = ratio(mine, caddy);
    out.push(
      `| ${id} | ${protocolsOf(x)} | ${fmt(mine)} | ${Number.isFinite(toCaddy) ? `${fmt(toCaddy, 2)}×` : 'n/a'} | ${perRound.join(', ')} | ${Number.isFinite(mine) ? fmt(x.perWallSecond) : 'n/a'} | ${Number.isFinite(mine) ? x.errors : 'n/a'} |`,
    );
  }
  const missing = SERVERS.filter((id) => report.summaries[id].h2 && !Number.isFinite(h2PerCpuSecond(report, id)));
  if (missing.length)
    out.push(
      '',
      `No HTTP/2 figure where ${missing.map((id) => h2Missing(report, id)).join('; ')}: h2load measured HTTP/1.1 there, which is not counted.`,
    );
  out.push('');
  return out;
}

function newNamesRow(server: string, r: NewNamesResult['inARow']): string {
  const failures = Object.entries(r.failures)
    .map(([why, n]) => `${n}× ${why}`)
    .join('; ');
  return `| ${server} | ${r.real} of ${r.names} | ${fmt(r.p50Ms)} | ${fmt(r.p90Ms)} | ${fmt(r.maxMs)} | ${failures || '-'} |`;
}

function markdown(report: Report): string {
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
  out.push(
    `**Versions:** ${Object.entries(report.versions)
      .map(([k, v]) => `${k}: ${v}`)
      .join(' · ')}`,
    '',
  );
  for (const t of THROUGHPUT) {
    out.push(
      `## ${t.title}`,
      '',
      '| server | per CPU-s | ratio to Caddy | per round | per wall-clock s | errors |',
      '|---|---:|---:|---|---:|---:|',
    );
    for (const id of SERVERS) {
      const x = s[id][t.id];
      out.push(
        `| ${id} | ${fmt(x.perCpuSecond)} | ${fmt(ratio(x.perCpuSecond, s.caddy[t.id].perCpuSecond), 2)}× | ${x.perRound.map((n) => fmt(n)).join(', ')} | ${fmt(x.perWallSecond)} | ${x.errors} |`,
      );
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
    out.push(
      `| ${id} | ${fmt(x.p50Ms ?? NaN, 3)} | ${fmt(x.p99Ms ?? NaN, 3)} | ${fmt(ratio(x.p50Ms ?? NaN, s.caddy.paced.p50Ms ?? NaN), 2)}× | ${fmt(ratio(x.p99Ms ?? NaN, s.caddy.paced.p99Ms ?? NaN), 2)}× | ${fmt(x.perWallSecond)} |`,
    );
  }
  const n = report.newNames;
  out.push(
    '',
    '## 5. First request for new names (certfleet vs Caddy on-demand)',
    '',
    "Each request by a TLS client verifying the chain against Pebble's root for the name (the fallback certificate counts as a failure); latencies are over all requests, failed ones included; one warm-up name first " +
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
        (m.pssAfterMb === undefined
          ? `the edge's process tree (${m.processes} processes) held **${fmt(m.rssAfterMb)} MB** resident (${m.perProcessMb.map((x) => `${x} MB`).join(' + ')}; PSS not measured in this run).`
          : `the edge's process tree (${m.processes} processes) held **${fmt(m.pssAfterMb)} MB** counted once (PSS: ${(m.pssPerProcessMb ?? []).map((x) => `${x} MB`).join(' + ')}` +
            (m.pssParts
              ? `; ${fmt(m.pssParts.anonMb)} MB anonymous, ${fmt(m.pssParts.fileMb)} MB file-backed, ${fmt(m.pssParts.shmemMb)} MB shmem`
              : '') +
            `), against ${fmt(m.rssAfterMb)} MB of RSS summed over the processes (${m.perProcessMb.map((x) => `${x} MB`).join(' + ')}), which counts the pages they share in each.` +
            (m.pssAfterFirstMb === undefined
              ? ''
              : ` After the first handshake: PSS ${fmt(m.pssAfterFirstMb)} MB, RSS summed ${fmt(m.rssAfterFirstMb)} MB.`)),
      '',
    );
  } else out.push('Not run (BENCH_MANY_NAMES=0).', '');
  out.push(...h2Section(report));
  out.push(
    '## Targets (issues 5 and 11)',
    '',
    '| target | measured | met |',
    '|---|---|---|',
    ...targets(report).map((t) => `| ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`),
    '',
  );
  out.push('## Checks', '', ...resumptionEvidence(report), '');
  out.push(
    '## Method',
    '',
    '- Everything on loopback, free ports: one Pebble 2.6 (`PEBBLE_VA_NOSLEEP=1`) with challtestsrv as its DNS, one redis-server, one upstream: a one-worker nginx answering a 20-byte body ' +
      '(C, a few µs a request, so it does not dominate; its CPU is counted for no server). The certificate for the benchmark name is issued by Pebble through certfleet; nginx and Caddy are given its chain and key.',
    "- certfleet: `certfleet run edge` (+ one issuer), `EDGE_WORKERS` processes. Caddy: Debian's package, Caddyfile with the static certificate for the benchmark name and `on_demand` TLS " +
      "(ask endpoint, `acme_ca` = the same Pebble) for any other name; it listens on 127.0.0.2 with the edge's port numbers, because Pebble validates every name on one HTTP and one TLS port (challtestsrv resolves Caddy's names to 127.0.0.2). " +
      'nginx: `worker_processes auto`, session cache and tickets on, keep-alive to the upstream. All three add X-Forwarded-* headers.',
    "- Rounds alternate the servers (A B C, A B C) for each scenario. CPU: utime + stime of the server's process tree from /proc/PID/stat before and after each run (the clients' CPU is not counted).",
    `- 1 and 2: bench/tls-load.c (C, OpenSSL), ${report.settings.handshakeThreads} connections at a time, one \`GET /\` with \`Connection: close\` per connection; ` +
      '1 offers no session (a full handshake each), 2 offers on every connection the ticket of one first full handshake (TLS 1.3: a resumption still does an ECDHE exchange, but sends no certificate and signs nothing). ' +
      'Not wrk: wrk 4.1.0 resumes its sessions when it reconnects (nginx logged 1,143 of 1,175 wrk connections as resumed). 3: `wrk -t2 -c64` keep-alive. 4: `wrk -t2` with the paced connections above.',
    "- 6: one handshake per stored name (bench/tls-load.c, 32 at a time, no request). Memory: PSS from /proc/PID/smaps_rollup summed over the edge's processes (primary + workers), " +
      'each page shared between processes counted once, split between them; beside it RSS (resident set from /proc/PID/statm) summed, which counts the shared pages in every process.',
    `- 7: \`h2load -t2 -c${report.settings.h2Connections ?? 10} -m${report.settings.h2Streams ?? 10} -D ${report.settings.seconds}s --connect-to=ADDR:PORT https://NAME:PORT/\` (nghttp2-client), keep-alive, no warm-up (the CPU is read around the whole run, so the requests counted are those of the whole run). ` +
      'h2load offers h2 and http/1.1 by ALPN and carries on with what the server picks; a run is counted as HTTP/2 only when it printed "Application protocol: h2". nginx listens with `http2`, `keepalive_requests 1000000` (h2load does not reconnect after the GOAWAY that ends a connection).',
    '- Run: `pnpm bench:edge` (on the Node 24 the set-up provides, see versions); knobs `BENCH_SECONDS`, `BENCH_ROUNDS`, `BENCH_MANY_NAMES`, `BENCH_WORKERS`. Raw figures: `bench/out/edge-compare.json`.',
    '',
  );
  return out.join('\n');
}

export function writeReport(report: Report): void {
  writeFileSync(join(REPO_ROOT, 'bench', 'RESULTS.md'), markdown(report));
  writeFileSync(join(REPO_ROOT, 'bench', 'results.svg'), svgChart(report));
}
