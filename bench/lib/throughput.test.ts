import { describe, expect, it } from 'vitest';
import { summarise, type Run } from './throughput.js';

const run = (o: Partial<Run> & Pick<Run, 'scenario' | 'round' | 'count' | 'cpuSeconds'>): Run => ({
  server: 'certfleet',
  wallSeconds: 8,
  cpuPerProcess: {},
  errors: 0,
  ...o,
});

describe('summarise', () => {
  it('sums the completed units of every round per second of server CPU', () => {
    const runs = [
      run({ scenario: 'keepalive', round: 1, count: 1000, cpuSeconds: 1 }),
      run({ scenario: 'keepalive', round: 2, count: 3000, cpuSeconds: 1 }),
    ];
    const summary = summarise(runs, 'certfleet', 'keepalive');
    expect(summary.perCpuSecond).toBe(2000);
    expect(summary.perRound).toEqual([1000, 3000]);
    expect(summary.protocols).toBeUndefined();
  });

  it('counts only the HTTP/2 runs that negotiated h2, and tells which protocols the others got', () => {
    const runs = [
      run({ scenario: 'h2', round: 1, count: 8000, cpuSeconds: 2, protocol: 'h2' }),
      run({ scenario: 'h2', round: 2, count: 90000, cpuSeconds: 2, protocol: 'http/1.1' }),
      run({ scenario: 'h2', round: 3, count: 0, cpuSeconds: 0, protocol: 'none', errors: 0 }),
    ];
    const summary = summarise(runs, 'certfleet', 'h2');
    expect(summary.perCpuSecond).toBe(4000);
    expect(summary.perRound).toEqual([4000, 0, 0]);
    expect(summary.protocols).toEqual({ h2: 1, 'http/1.1': 1, none: 1 });
  });

  it('gives no HTTP/2 figure for a server that never negotiated h2', () => {
    const runs = [run({ scenario: 'h2', round: 1, count: 90000, cpuSeconds: 2, protocol: 'http/1.1' })];
    const summary = summarise(runs, 'certfleet', 'h2');
    expect(summary.perCpuSecond).toBe(0);
    expect(summary.protocols).toEqual({ 'http/1.1': 1 });
  });

  it('refuses a scenario that has no runs for the server', () => {
    expect(() => summarise([], 'caddy', 'h2')).toThrow(/no runs of h2 on caddy/);
  });
});
