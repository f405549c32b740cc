import { describe, expect, it } from 'vitest';
import { formatProgress, progressLine } from './progress.js';

describe('formatProgress', () => {
  it('shows the bar, percentage, count, rate and time left for a file', () => {
    expect(formatProgress({ done: 25_000, fraction: 0.25, elapsedMs: 5_000 })).toBe(
      '[######------------------]   25%  25,000 names  5,000/s  ETA 15s',
    );
  });

  it('shows count and rate only when the size is unknown (standard input)', () => {
    expect(formatProgress({ done: 1_234, fraction: undefined, elapsedMs: 2_000 })).toBe('1,234 names  617/s');
  });

  it('has no time left to show before anything was read, and minutes past a minute', () => {
    expect(formatProgress({ done: 0, fraction: 0, elapsedMs: 0 })).toMatch(/ 0 names {2}0\/s {2}ETA \?$/);
    expect(formatProgress({ done: 10, fraction: 0.01, elapsedMs: 1_000 })).toMatch(/ETA 1m39s$/);
  });

  it('keeps a fraction beyond 0-1 (a file that grew while read) inside the bar', () => {
    expect(formatProgress({ done: 5, fraction: 1.5, elapsedMs: 1_000 })).toMatch(/^\[#{24}\] {2}100%/);
  });
});

describe('progressLine', () => {
  const stream = (isTTY: boolean) => {
    const written: string[] = [];
    return { written, stream: { isTTY, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream };
  };

  it('redraws in place on a terminal, at most ten times a second, and clears at the end', () => {
    const out = stream(true);
    let now = 0;
    const line = progressLine(out.stream, () => now);
    line.update({ done: 1, fraction: undefined, elapsedMs: 1 });
    now = 50;
    line.update({ done: 2, fraction: undefined, elapsedMs: 50 });
    now = 150;
    line.update({ done: 3, fraction: undefined, elapsedMs: 150 });
    line.clear();
    expect(out.written).toEqual(['\r1 names  1,000/s\x1b[K', '\r3 names  20/s\x1b[K', '\r\x1b[K']);
  });

  it('writes nothing when the stream is not a terminal', () => {
    const out = stream(false);
    const line = progressLine(out.stream, () => 1_000);
    line.update({ done: 1, fraction: 0.5, elapsedMs: 1 });
    line.clear();
    expect(out.written).toEqual([]);
  });
});
