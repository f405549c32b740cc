/** bench/results.svg: the ratios to Caddy as a bar chart, drawn here (no chart library). */
import { fmt, h2PerCpuSecond, ratio, SERVERS, THROUGHPUT } from './figures.js';
import type { Report } from './report.js';
import type { ServerId } from './throughput.js';

/**
 * The ratios to Caddy (scenarios 1-3 and 7) as grouped bars, with Caddy's 1.0 and the 1.1 target
 * as lines; a bar with no figure (HTTP/2 not negotiated) is drawn as "n/a".
 */
export function svgChart(report: Report): string {
  const width = 720;
  const height = 320;
  const left = 50;
  const bottom = 260;
  const top = 40;
  const groups = [
    ...THROUGHPUT.map((t) => ({
      label: t.chart,
      value: (id: ServerId) => ratio(report.summaries[id][t.id].perCpuSecond, report.summaries.caddy[t.id].perCpuSecond),
    })),
    ...(report.summaries.certfleet.h2
      ? [{ label: 'HTTP/2 (h2load)', value: (id: ServerId) => ratio(h2PerCpuSecond(report, id), h2PerCpuSecond(report, 'caddy')) }]
      : []),
  ];
  const values = groups.flatMap((g) => SERVERS.map(g.value));
  const max = Math.max(1.5, ...values.filter(Number.isFinite)) * 1.1;
  const y = (v: number) => Math.round((bottom - ((bottom - top) * v) / max) * 10) / 10;
  const colors: Record<ServerId, string> = { certfleet: '#2b6cb0', caddy: '#718096', nginx: '#38a169' };
  const groupWidth = (width - left - 20) / groups.length;
  const bar = 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">Per server CPU-second, ratio to Caddy 2.6 (higher is better)</text>`,
    `<line x1="${left}" y1="${bottom}" x2="${width - 10}" y2="${bottom}" stroke="black"/>`,
  ];
  // Caddy's 1.0 labelled on the axis; the 1.1 target's line explained in the legend (a label
  // beside it would sit on the bars of the last group).
  parts.push(`<line x1="${left}" y1="${y(1)}" x2="${width - 10}" y2="${y(1)}" stroke="#718096"/>`);
  parts.push(`<text x="${left - 4}" y="${y(1) + 4}" text-anchor="end" font-size="10">1.0</text>`);
  parts.push(`<line x1="${left}" y1="${y(1.1)}" x2="${width - 10}" y2="${y(1.1)}" stroke="#c53030" stroke-dasharray="4 3"/>`);
  groups.forEach((group, g) => {
    const x0 = left + g * groupWidth + (groupWidth - SERVERS.length * bar) / 2;
    SERVERS.forEach((id, i) => {
      const v = group.value(id);
      const h = Number.isFinite(v) ? bottom - y(v) : 0;
      const x = x0 + i * bar;
      parts.push(`<rect x="${x + 3}" y="${bottom - h}" width="${bar - 6}" height="${h}" fill="${colors[id]}"/>`);
      parts.push(`<text x="${x + bar / 2}" y="${bottom - h - 4}" text-anchor="middle" font-size="10">${fmt(v, 2)}</text>`);
    });
    parts.push(`<text x="${x0 + (SERVERS.length * bar) / 2}" y="${bottom + 18}" text-anchor="middle">${group.label}</text>`);
  });
  SERVERS.forEach((id, i) => {
    parts.push(`<rect x="${left + i * 120}" y="${height - 24}" width="12" height="12" fill="${colors[id]}"/>`);
    parts.push(`<text x="${left + i * 120 + 16}" y="${height - 14}">${id}</text>`);
  });
  const legend = left + SERVERS.length * 120;
  parts.push(`<line x1="${legend}" y1="${height - 18}" x2="${legend + 24}" y2="${height - 18}" stroke="#c53030" stroke-dasharray="4 3"/>`);
  parts.push(`<text x="${legend + 30}" y="${height - 14}" fill="#c53030">target 1.1× Caddy (HTTP/2: 1.0×)</text>`);
  parts.push('</svg>', '');
  return parts.join('\n');
}
