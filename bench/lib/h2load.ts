/**
 * h2load (Debian's nghttp2-client 1.52) as the HTTP/2 load generator: its command line and a
 * parser for its report. The URL carries the benchmark name (SNI and :authority come from it);
 * `--connect-to` makes h2load connect to the server's loopback address instead of resolving it.
 *
 * h2load offers h2 and http/1.1 by ALPN and carries on with whatever the server picks: against a
 * server without h2 it measures HTTP/1.1, pipelining `-m` requests a connection, and says so only
 * in its "Application protocol:" line. So the negotiated protocol is part of the result, and a
 * caller must not count a run that did not speak h2 as an HTTP/2 figure.
 */
import { execFile } from 'node:child_process';

export interface H2loadResult {
  /**
   * What ALPN chose, from "Application protocol: h2" ("h2", "http/1.1"; h2load says http/1.1
   * too when the server negotiated nothing); undefined when no connection completed a TLS
   * handshake (h2load then prints no such line).
   */
  protocol: string | undefined;
  /** "TLSv1.3", when a connection was made. */
  tls: string | undefined;
  /** The measured duration h2load reports ("finished in 2.01s"). */
  seconds: number;
  /**
   * h2load's request counts. `succeeded`: answered 2xx or 3xx. `failed`: every other request
   * that ended, HTTP errors included; `errored` (network errors, streams reset) and `timeout`
   * are subsets of it.
   */
  requests: { total: number; started: number; done: number; succeeded: number; failed: number; errored: number; timeout: number };
  status: { '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  /** "time for request" (min, max, mean, sd), in milliseconds; absent when nothing was answered. */
  requestMs?: { min: number; max: number; mean: number; sd: number };
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

/** "135us", "2.50ms", "1.01s" to milliseconds. */
export function parseH2loadTime(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (!m?.[1] || !m[2]) throw new Error(`not an h2load duration: "${text}"`);
  // Rounded to the microsecond h2load prints, without float noise.
  return Math.round(Number(m[1]) * (TIME_UNITS[m[2]] as number) * 1000) / 1000;
}

/** Parses h2load's report (stdout). Throws, quoting the output, when the totals are missing. */
export function parseH2load(output: string): H2loadResult {
  const finished = /^finished in ([\d.]+)s,/m.exec(output);
  const requests = /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(
    output,
  );
  const status = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(output);
  if (!finished || !requests || !status) {
    throw new Error(`h2load's output has no "finished in", "requests:" or "status codes:" line:\n${output}`);
  }
  const n = (m: RegExpExecArray, i: number) => Number(m[i]);
  // h2load 1.52 prints it once a run, for the first connection to finish its handshake (with
  // any number of threads); should another version print it per thread, differing choices are
  // kept side by side ("h2,http/1.1"), which a caller comparing with "h2" rejects.
  const chosen = [...new Set([...output.matchAll(/^Application protocol: (\S+)/gm)].map((m) => m[1] as string))];
  const protocol = chosen.length ? chosen.join(',') : undefined;
  const tls = /^TLS Protocol: (\S+)/m.exec(output)?.[1];
  const result: H2loadResult = {
    protocol,
    tls,
    seconds: Number(finished[1]),
    requests: {
      total: n(requests, 1),
      started: n(requests, 2),
      done: n(requests, 3),
      succeeded: n(requests, 4),
      failed: n(requests, 5),
      errored: n(requests, 6),
      timeout: n(requests, 7),
    },
    status: { '2xx': n(status, 1), '3xx': n(status, 2), '4xx': n(status, 3), '5xx': n(status, 4) },
  };
  const time = /^time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(output);
  if (time && result.requests.done > 0) {
    result.requestMs = {
      min: parseH2loadTime(time[1] as string),
      max: parseH2loadTime(time[2] as string),
      mean: parseH2loadTime(time[3] as string),
      sd: parseH2loadTime(time[4] as string),
    };
  }
  return result;
}

export interface H2loadRun {
  /** https://NAME:PORT/ — NAME is sent as SNI and :authority. */
  url: string;
  /** Where h2load connects instead of resolving NAME. */
  connectAddress: string;
  connectPort: number;
  /** Connections (`-c`), and streams in flight on each (`-m`). */
  clients: number;
  streams: number;
  threads: number;
  seconds: number;
}

/**
 * Runs h2load to completion and parses its report. No `--warm-up-time`: the server's CPU is read
 * around the whole run, so the requests counted must be those of the whole run too (h2load leaves
 * warm-up requests out of its totals); ten handshakes in a run of seconds weigh nothing.
 */
export function runH2load(run: H2loadRun): Promise<H2loadResult & { output: string }> {
  const args = [
    `--connect-to=${run.connectAddress}:${run.connectPort}`,
    `-t${run.threads}`,
    `-c${run.clients}`,
    `-m${run.streams}`,
    '-D',
    `${run.seconds}s`,
    run.url,
  ];
  return new Promise((resolve, reject) => {
    execFile('h2load', args, { timeout: (run.seconds + 30) * 1000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`h2load ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      try {
        resolve({ ...parseH2load(stdout), output: stdout });
      } catch (parseError) {
        reject(parseError instanceof Error ? parseError : new Error(String(parseError)));
      }
    });
  });
}
