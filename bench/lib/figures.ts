/**
 * Figures the report and its chart both read from a run: the servers and throughput scenarios in
 * report order, number formatting, ratios, and scenario 7's h2-only figure.
 */
import type { Report } from './report.js';
import type { ScenarioSummary, ServerId } from './throughput.js';

export const SERVERS: readonly ServerId[] = ['certfleet', 'caddy', 'nginx'];
export const THROUGHPUT: { id: 'full' | 'resumed' | 'keepalive'; title: string; chart: string }[] = [
  { id: 'full', title: '1. Full handshakes per server CPU-second', chart: 'Full handshakes' },
  { id: 'resumed', title: '2. Resumed handshakes per server CPU-second', chart: 'Resumed handshakes' },
  { id: 'keepalive', title: '3. Keep-alive proxied requests per server CPU-second', chart: 'Keep-alive, HTTP/1.1' },
];

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';
export const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);

/** Scenario 7's runs of one server by negotiated protocol: "h2 ×3", "http/1.1 ×3". */
export const protocolsOf = (x: ScenarioSummary | undefined) =>
  Object.entries(x?.protocols ?? {})
    .map(([p, n]) => `${p} ×${n}`)
    .join(', ') || 'not run';

/**
 * A server's HTTP/2 requests per CPU-second, over its runs that negotiated h2; NaN when none did
 * (the edge before HTTP/2, or a run from before scenario 7), so that no ratio is made of HTTP/1.1.
 */
export function h2PerCpuSecond(report: Report, id: ServerId): number {
  const x = report.summaries[id].h2;
  return x?.protocols?.h2 ? x.perCpuSecond : NaN;
}

/** Why a server has no HTTP/2 figure: "certfleet negotiated http/1.1 in its 3 runs, never h2". */
export function h2Missing(report: Report, id: ServerId): string {
  const x = report.summaries[id].h2;
  if (!x) return 'scenario 7 not run';
  const runs = Object.values(x.protocols ?? {}).reduce((a, b) => a + b, 0);
  const protocols = Object.entries(x.protocols ?? {})
    .map(([p, n]) => (n === runs ? p : `${p} ×${n}`))
    .join(', ');
  return `${id} negotiated ${protocols} in its ${runs} run${runs === 1 ? '' : 's'}, never h2`;
}
