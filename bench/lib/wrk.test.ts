import { describe, expect, it } from 'vitest';
import { parseWrk, parseWrkTime } from './wrk.js';

const REPORT = `Running 10s test @ https://bench.example.com:40111/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.05ms    2.19ms  26.01ms   90.22%
    Req/Sec     6.04k     3.69k   12.22k    70.00%
  Latency Distribution
     50%  214.00us
     75%  727.00us
     90%    3.19ms
     99%    1.02s
  60140 requests in 10.01s, 8.63MB read
  Socket errors: connect 0, read 12, write 3, timeout 4
  Non-2xx or 3xx responses: 7
Requests/sec:   6008.00
Transfer/sec:    858.30KB
`;

describe('parseWrk', () => {
  it('reads totals, the latency distribution, socket errors and non-2xx answers', () => {
    const result = parseWrk(REPORT);
    expect(result.requests).toBe(60140);
    expect(result.seconds).toBeCloseTo(10.01);
    expect(result.requestsPerSecond).toBeCloseTo(60140 / 10.01);
    expect(result.latencyMs).toEqual({ '50': 0.214, '75': 0.727, '90': 3.19, '99': 1020 });
    expect(parseWrk(REPORT.replace('214.00us', '574.00us')).latencyMs['50']).toBe(0.574);
    expect(result.errors).toEqual({ connect: 0, read: 12, write: 3, timeout: 4 });
    expect(result.non2xx).toBe(7);
  });

  it('counts no errors when wrk prints no error lines', () => {
    const clean = REPORT.split('\n')
      .filter((l) => !l.includes('errors') && !l.includes('Non-2xx'))
      .join('\n');
    const result = parseWrk(clean);
    expect(result.errors).toEqual({ connect: 0, read: 0, write: 0, timeout: 0 });
    expect(result.non2xx).toBe(0);
  });

  it('rejects output without the totals line, quoting it', () => {
    expect(() => parseWrk('unable to connect to bench.example.com:1 Connection refused')).toThrow(
      /no "N requests in T" line[\s\S]*Connection refused/,
    );
  });
});

describe('parseWrkTime', () => {
  it('converts every unit wrk prints to milliseconds', () => {
    expect(parseWrkTime('250.00us')).toBeCloseTo(0.25);
    expect(parseWrkTime('3.19ms')).toBeCloseTo(3.19);
    expect(parseWrkTime('1.50s')).toBe(1500);
    expect(parseWrkTime('1.00m')).toBe(60_000);
  });

  it('rejects a value without a unit', () => {
    expect(() => parseWrkTime('12')).toThrow(/not a wrk duration: "12"/);
  });
});
