/**
 * Scenarios 1-4 and 7 (HTTP/2), driven the same way against each server, rounds alternating
 * A B C A B C, with the server's own CPU time (its whole process tree, from /proc) read before
 * and after each run.
 */
import { readFileSync } from 'node:fs';
import { until } from '../../test/support/wait.js';
import type { Target } from './clients.js';
import { runH2load } from './h2load.js';
import { cpuDelta, treeCpu } from './proc.js';
import { runLoad } from './tls-load.js';
import { runWrk } from './wrk.js';

export type ServerId = 'certfleet' | 'caddy' | 'nginx';

export interface ServerUnderTest {
  id: ServerId;
  /** Root of the server's process tree (edge primary, nginx master, caddy). */
  pid: number;
  target: Target;
  /**
   * The server's own count of handshakes so far, resumed and full, when it keeps one (nginx's
   * `$ssl_session_reused` log; the edge's certfleet_edge_tls_handshakes_total): read before and
   * after scenarios 1 and 2, to check the client's view from the server's side.
   */
  handshakeCounts?: () => Promise<{ resumed: number; full: number }>;
}

/** 1 full handshakes, 2 resumed, 3 keep-alive HTTP/1.1 requests, 4 paced latency, 7 HTTP/2 requests. */
export type ScenarioId = 'full' | 'resumed' | 'keepalive' | 'paced' | 'h2';

/** The order scenarios run in within a round. */
export const SCENARIOS: readonly ScenarioId[] = ['full', 'resumed', 'keepalive', 'paced', 'h2'];

export interface Run {
  server: ServerId;
  scenario: ScenarioId;
  round: number;
  /** Handshakes (1, 2) or requests (3, 4, 7) that completed (7: answered 2xx or 3xx). */
  count: number;
  wallSeconds: number;
  cpuSeconds: number;
  /** CPU seconds per process of the tree (pid to seconds), to see how the work spread. */
  cpuPerProcess: Record<string, number>;
  errors: number;
  latencyMs?: Record<string, number>;
  /** Scenarios 1-2: connections made and those the server resumed. */
  connections?: number;
  resumed?: number;
  /** Scenarios 1-2: the handshakes the server itself counted, resumed and full, during the run. */
  serverCounts?: { resumed: number; full: number };
  /**
   * Scenario 7: the protocol ALPN chose ("h2", "http/1.1"; "none" when no connection was made).
   * Only runs that spoke h2 count towards the HTTP/2 figure.
   */
  protocol?: string;
}

export interface ThroughputOptions {
  name: string;
  seconds: number;
  rounds: number;
  /** Scenario 4's pace: connections, each waiting `pacedDelayMs` before each request. */
  pacedConnections: number;
  pacedDelayMs: number;
  /** Scenarios 1-2: connections at a time (threads of bench/tls-load.c). */
  handshakeThreads: number;
  /** Scenario 7: h2load's connections (`-c`) and streams in flight on each (`-m`). */
  h2Connections: number;
  h2Streams: number;
  log: (line: string) => void;
}

/** Lines of nginx's reuse log ("r" resumed, "." full), once its buffer stopped growing. */
export async function settledReuseLog(path: string): Promise<{ resumed: number; full: number }> {
  let last = -1;
  const text = await until(
    'nginx reuse log settled',
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      const now = readFileSync(path, 'utf8');
      if (now.length === last) return now;
      last = now.length;
      return undefined;
    },
    10_000,
    0,
  );
  const lines = text.split('\n');
  return { resumed: lines.filter((l) => l === 'r').length, full: lines.filter((l) => l === '.').length };
}

function difference(after: { resumed: number; full: number }, before: { resumed: number; full: number }) {
  return { resumed: after.resumed - before.resumed, full: after.full - before.full };
}

async function runOne(server: ServerUnderTest, scenario: ScenarioId, round: number, o: ThroughputOptions): Promise<Run> {
  const url = `https://${o.name}:${server.target.port}/`;
  const counting = scenario === 'full' || scenario === 'resumed' ? server.handshakeCounts : undefined;
  const countsBefore = await counting?.();
  const before = treeCpu(server.pid);
  const started = performance.now();
  let run: Omit<Run, 'cpuSeconds' | 'cpuPerProcess' | 'wallSeconds'>;
  if (scenario === 'full' || scenario === 'resumed') {
    const r = await runLoad({ target: server.target, name: o.name, mode: scenario, seconds: o.seconds, threads: o.handshakeThreads });
    // Only what the scenario asks for counts: a full handshake in the resumed scenario does not.
    const count = scenario === 'full' ? r.connections - r.resumed : r.resumed;
    run = { server: server.id, scenario, round, count, errors: r.errors, connections: r.connections, resumed: r.resumed };
  } else if (scenario === 'h2') {
    const h2 = await runH2load({
      url,
      connectAddress: server.target.address,
      connectPort: server.target.port,
      clients: o.h2Connections,
      streams: o.h2Streams,
      threads: 2,
      seconds: o.seconds,
    });
    run = { server: server.id, scenario, round, count: h2.requests.succeeded, errors: h2.requests.failed, protocol: h2.protocol ?? 'none' };
  } else {
    const wrk = await runWrk({
      url,
      connectAddress: server.target.address,
      threads: 2,
      seconds: o.seconds,
      connections: scenario === 'keepalive' ? 64 : o.pacedConnections,
      ...(scenario === 'paced' ? { delayMs: o.pacedDelayMs } : {}),
    });
    const errors = wrk.errors.connect + wrk.errors.read + wrk.errors.write + wrk.errors.timeout + wrk.non2xx;
    run = { server: server.id, scenario, round, count: wrk.requests - wrk.non2xx, errors, latencyMs: wrk.latencyMs };
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = cpuDelta(before, treeCpu(server.pid));
  const result: Run = {
    ...run,
    wallSeconds,
    cpuSeconds: cpu.totalSeconds,
    cpuPerProcess: Object.fromEntries([...cpu.perPid].map(([pid, s]) => [String(pid), Number(s.toFixed(2))])),
  };
  if (counting && countsBefore) result.serverCounts = difference(await counting(), countsBefore);
  o.log(
    `  round ${round} ${scenario.padEnd(9)} ${server.id.padEnd(9)} ${result.count} in ${wallSeconds.toFixed(1)} s, ` +
      `${result.cpuSeconds.toFixed(2)} CPU-s: ${(result.count / Math.max(result.cpuSeconds, 0.01)).toFixed(0)} per CPU-s` +
      (result.errors ? `, ${result.errors} errors` : '') +
      (result.latencyMs && scenario === 'paced' ? `, p50 ${result.latencyMs['50']} ms p99 ${result.latencyMs['99']} ms` : '') +
      (result.protocol === undefined ? '' : `, negotiated ${result.protocol}`) +
      (result.protocol === undefined || result.protocol === 'h2' ? '' : ' (not h2: left out of the HTTP/2 figure)'),
  );
  return result;
}

/** Every round runs every scenario on every server in turn: A B C, A B C, ... */
export async function runThroughput(servers: readonly ServerUnderTest[], o: ThroughputOptions): Promise<Run[]> {
  const runs: Run[] = [];
  for (let round = 1; round <= o.rounds; round += 1) {
    for (const scenario of SCENARIOS) {
      for (const server of servers) runs.push(await runOne(server, scenario, round, o));
    }
  }
  return runs;
}

export interface ScenarioSummary {
  /** Completed units per second of the server's own CPU, over all rounds. */
  perCpuSecond: number;
  /** The same, round by round (for the spread). */
  perRound: number[];
  perWallSecond: number;
  cpuSeconds: number;
  errors: number;
  /** Scenario 4: the median of the rounds' percentiles, and the rate achieved. */
  p50Ms?: number;
  p99Ms?: number;
  /**
   * Scenario 7: runs by the protocol they negotiated ({ h2: 3 } or { 'http/1.1': 3 }). The
   * figures above count the h2 runs only: 0 with no h2 run, which the report shows as not measured.
   */
  protocols?: Record<string, number>;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** Sums a server's runs of one scenario (for HTTP/2, its runs that spoke h2). */
export function summarise(runs: readonly Run[], server: ServerId, scenario: ScenarioId): ScenarioSummary {
  const all = runs.filter((r) => r.server === server && r.scenario === scenario);
  if (!all.length) throw new Error(`no runs of ${scenario} on ${server}`);
  const mine = scenario === 'h2' ? all.filter((r) => r.protocol === 'h2') : all;
  const count = mine.reduce((a, r) => a + r.count, 0);
  const cpu = mine.reduce((a, r) => a + r.cpuSeconds, 0);
  const wall = mine.reduce((a, r) => a + r.wallSeconds, 0);
  const summary: ScenarioSummary = {
    perCpuSecond: cpu > 0 ? count / cpu : 0,
    perRound: mine.map((r) => (r.cpuSeconds > 0 ? Math.round(r.count / r.cpuSeconds) : 0)),
    perWallSecond: wall > 0 ? count / wall : 0,
    cpuSeconds: cpu,
    errors: mine.reduce((a, r) => a + r.errors, 0),
  };
  if (scenario === 'h2') {
    summary.protocols = {};
    for (const r of all) summary.protocols[r.protocol ?? 'none'] = (summary.protocols[r.protocol ?? 'none'] ?? 0) + 1;
    summary.perRound = all.map((r) => (r.protocol === 'h2' && r.cpuSeconds > 0 ? Math.round(r.count / r.cpuSeconds) : 0));
  }
  if (scenario === 'paced') {
    summary.p50Ms = median(mine.map((r) => r.latencyMs?.['50'] ?? NaN));
    summary.p99Ms = median(mine.map((r) => r.latencyMs?.['99'] ?? NaN));
  }
  return summary;
}
