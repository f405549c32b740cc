/**
 * Scenario 5: the first request for names a server has never seen, each through a real TLS
 * client that verifies the chain against Pebble's root (a fallback certificate counts as a
 * failure): N names one after another, then M names at once.
 */
import { until } from '../../test/support/wait.js';
import { firstRequest, type FirstRequest, type Target } from './clients.js';

export interface LatencySummary {
  names: number;
  /** Got the real certificate and a 200. */
  real: number;
  p50Ms: number;
  p90Ms: number;
  maxMs: number;
  /** The distinct reasons of the failures, with counts. */
  failures: Record<string, number>;
}

/** Nearest-rank percentile (q in 0..1) of unsorted values. */
export function percentile(values: readonly number[], q: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
}

export function summariseFirstRequests(results: readonly FirstRequest[]): LatencySummary {
  const ms = results.map((r) => r.ms);
  const failures: Record<string, number> = {};
  for (const r of results) if (!r.real) failures[r.error ?? 'unknown'] = (failures[r.error ?? 'unknown'] ?? 0) + 1;
  return {
    names: results.length,
    real: results.filter((r) => r.real).length,
    p50Ms: Math.round(percentile(ms, 0.5)),
    p90Ms: Math.round(percentile(ms, 0.9)),
    maxMs: Math.round(Math.max(...ms)),
    failures,
  };
}

export interface NewNamesResult {
  /** The warm-up name's first request (a fallback then is retried, and not counted below). */
  warmupMs: number;
  warmupReal: boolean;
  inARow: LatencySummary;
  atOnce: LatencySummary;
}

/**
 * `prepare` makes the names acceptable to the server (allowlist, ask endpoint, DNS) before any
 * of them is requested; one warm-up name first, so the ACME account and connections exist as in
 * a running fleet.
 */
export async function newNames(
  target: Target,
  ca: string,
  label: string,
  counts: { inARow: number; atOnce: number },
  prepare: (names: string[]) => Promise<void>,
): Promise<NewNamesResult> {
  const warmup = `warmup.${label}.example.com`;
  const inARow = Array.from({ length: counts.inARow }, (_, i) => `seq-${i}.${label}.example.com`);
  const atOnce = Array.from({ length: counts.atOnce }, (_, i) => `burst-${i}.${label}.example.com`);
  await prepare([warmup, ...inARow, ...atOnce]);
  // The warm-up may outlast the server's wait on a busy machine and get a fallback at first: the
  // certificate arrives in the background, so ask again until it is served (or 60 s pass).
  const warm = await firstRequest(target, warmup, ca);
  if (!warm.real) {
    await until(
      `${label}: a real certificate for the warm-up name ${warmup}`,
      async () => (await firstRequest(target, warmup, ca)).real,
      60_000,
      500,
    );
  }
  const sequential: FirstRequest[] = [];
  for (const name of inARow) sequential.push(await firstRequest(target, name, ca));
  const burst = await Promise.all(atOnce.map((name) => firstRequest(target, name, ca)));
  return {
    warmupMs: Math.round(warm.ms),
    warmupReal: warm.real,
    inARow: summariseFirstRequests(sequential),
    atOnce: summariseFirstRequests(burst),
  };
}
