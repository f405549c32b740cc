/**
 * wrk 4.1.0 (Debian's) as the load generator: its command line and a parser for its report.
 * The URL carries the benchmark name (wrk takes SNI and Host from it); a small Lua script makes
 * wrk connect to a loopback address instead of resolving the name. wrk keeps each connection's
 * TLS session and resumes it when it reconnects, so it drives keep-alive requests only, never
 * handshakes (see tls-load.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WrkResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** From `--latency`: percentile (50, 75, 90, 99) to milliseconds. */
  latencyMs: Record<string, number>;
  errors: { connect: number; read: number; write: number; timeout: number };
  non2xx: number;
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "214.00us", "3.19ms", "1.01s", "1.00m" to milliseconds. */
export function parseWrkTime(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m?.[1] || !m[2]) throw new Error(`not a wrk duration: "${text}"`);
  // Rounded to the microsecond wrk prints, without float noise (0.574, not 0.5740000000000001).
  return Math.round(Number(m[1]) * (TIME_UNITS[m[2]] as number) * 1000) / 1000;
}

/** Parses wrk's report (stdout). Throws, quoting the output, when the totals line is missing. */
export function parseWrk(output: string): WrkResult {
  const totals = /(\d+) requests in ([\d.]+(?:us|ms|s|m|h)),/.exec(output);
  if (!totals?.[1] || !totals[2]) throw new Error(`wrk's output has no "N requests in T" line:\n${output}`);
  const requests = Number(totals[1]);
  const seconds = parseWrkTime(totals[2]) / 1000;
  const latencyMs: Record<string, number> = {};
  for (const m of output.matchAll(/^\s+(50|75|90|99)%\s+([\d.]+(?:us|ms|s|m|h))\s*$/gm)) {
    latencyMs[m[1] as string] = parseWrkTime(m[2] as string);
  }
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requests,
    seconds,
    requestsPerSecond: seconds > 0 ? requests / seconds : 0,
    latencyMs,
    errors: {
      connect: Number(socket?.[1] ?? 0),
      read: Number(socket?.[2] ?? 0),
      write: Number(socket?.[3] ?? 0),
      timeout: Number(socket?.[4] ?? 0),
    },
    non2xx: Number(non2xx?.[1] ?? 0),
  };
}

export interface WrkRun {
  /** https://NAME:PORT/ — NAME is sent as SNI and Host. */
  url: string;
  /** Where wrk connects instead of resolving NAME. */
  connectAddress: string;
  threads: number;
  connections: number;
  seconds: number;
  /** Milliseconds each connection waits before each request (wrk's Lua `delay()`): a fixed pace. */
  delayMs?: number;
}

let scriptDir: string | undefined;

/** The Lua script: connect to BENCH_CONNECT_ADDR, and optionally wait BENCH_DELAY_MS before each request. */
function script(): string {
  scriptDir ??= mkdtempSync(join(tmpdir(), 'certfleet-wrk-'));
  const path = join(scriptDir, 'bench.lua');
  writeFileSync(
    path,
    [
      'local addr = os.getenv("BENCH_CONNECT_ADDR")',
      'local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")',
      'function wrk.resolve(host, service) wrk.addrs = wrk.lookup(addr, service) end',
      'if pause > 0 then function delay() return pause end end',
      '',
    ].join('\n'),
  );
  return path;
}

/** Runs wrk to completion and parses its report. */
export function runWrk(run: WrkRun): Promise<WrkResult & { output: string }> {
  const args = [`-t${run.threads}`, `-c${run.connections}`, `-d${run.seconds}s`, '--latency', '--timeout', '10s', '-s', script(), run.url];
  const env = { ...process.env, BENCH_CONNECT_ADDR: run.connectAddress, BENCH_DELAY_MS: String(run.delayMs ?? 0) };
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { env, timeout: (run.seconds + 30) * 1000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`wrk ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      try {
        resolve({ ...parseWrk(stdout), output: stdout });
      } catch (parseError) {
        reject(parseError instanceof Error ? parseError : new Error(String(parseError)));
      }
    });
  });
}
