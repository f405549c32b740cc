import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseH2load, parseH2loadTime } from './h2load.js';

/** Real h2load 1.52 reports, one case a file (see testdata/README.md). */
const report = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');

describe('parseH2load', () => {
  it('reads the negotiated protocol, request counts, status classes and request times of an h2 run', () => {
    const result = parseH2load(report('h2load-h2.txt'));
    expect(result.protocol).toBe('h2');
    expect(result.tls).toBe('TLSv1.2');
    expect(result.seconds).toBeCloseTo(2.12);
    expect(result.requests).toEqual({ total: 57401, started: 57501, done: 57401, succeeded: 57401, failed: 0, errored: 0, timeout: 0 });
    expect(result.status).toEqual({ '2xx': 57401, '3xx': 0, '4xx': 0, '5xx': 0 });
    expect(result.requestMs).toEqual({ min: 0.135, max: 125.88, mean: 2.5, sd: 6.86 });
  });

  it('reports http/1.1 when the server chose it by ALPN, though h2load measured requests all the same', () => {
    const result = parseH2load(report('h2load-alpn-http11.txt'));
    expect(result.protocol).toBe('http/1.1');
    expect(result.requests.succeeded).toBe(169789);
  });

  it('reports http/1.1 when the server negotiated no protocol at all', () => {
    const result = parseH2load(report('h2load-no-alpn.txt'));
    expect(result.protocol).toBe('http/1.1');
    expect(result.tls).toBe('TLSv1.3');
    expect(result.requests.succeeded).toBe(114184);
  });

  it('counts 5xx answers as failed, not succeeded', () => {
    const result = parseH2load(report('h2load-h2-502.txt'));
    expect(result.protocol).toBe('h2');
    expect(result.requests).toMatchObject({ done: 44239, succeeded: 0, failed: 44239, errored: 0 });
    expect(result.status['5xx']).toBe(44239);
  });

  it('shows a run cut short by GOAWAY: few requests succeeded, the streams in flight errored', () => {
    const result = parseH2load(report('h2load-h2-goaway.txt'));
    expect(result.requests).toMatchObject({ succeeded: 1000, failed: 8, errored: 8 });
  });

  it('has no protocol and no request times when no connection was made', () => {
    const result = parseH2load(report('h2load-refused.txt'));
    expect(result.protocol).toBeUndefined();
    expect(result.tls).toBeUndefined();
    expect(result.requests.done).toBe(0);
    expect(result.requestMs).toBeUndefined();
  });

  it('keeps differing protocols side by side, so that the run is not taken for h2', () => {
    const twice = report('h2load-h2.txt').replace(
      'Application protocol: h2\n',
      'Application protocol: h2\nApplication protocol: http/1.1\n',
    );
    expect(parseH2load(twice).protocol).toBe('h2,http/1.1');
  });

  it('rejects output without the totals, quoting it', () => {
    expect(() => parseH2load('invalid URI: bench.example.com')).toThrow(
      /no "finished in", "requests:" or "status codes:" line[\s\S]*invalid URI/,
    );
  });
});

describe('parseH2loadTime', () => {
  it('converts every unit h2load prints to milliseconds', () => {
    expect(parseH2loadTime('135us')).toBe(0.135);
    expect(parseH2loadTime('2.50ms')).toBe(2.5);
    expect(parseH2loadTime('1.01s')).toBe(1010);
  });

  it('rejects a value without a unit', () => {
    expect(() => parseH2loadTime('12')).toThrow(/not an h2load duration: "12"/);
  });
});
