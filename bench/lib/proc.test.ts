import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cpuDelta, parseSmapsRollup, parseStat, parseStatmResidentPages, treeCpu, treeOf, treePssBytes, treeRssBytes } from './proc.js';

// A real line's shape (Linux 6.x), with a command name holding a space and a parenthesis.
const LINE =
  '4242 (node (edge) x) S 4200 4242 4200 0 -1 4194560 51234 0 12 0 1534 287 0 0 20 0 11 0 123456 1234567890 30000 18446744073709551615 1 1 0 0 0 0 0 16781312 134234626 0 0 0 17 1 0 0 0 0 0';

describe('parseStat', () => {
  it('reads pid, parent pid and utime + stime, past a command name with spaces and parentheses', () => {
    expect(parseStat(LINE)).toEqual({ pid: 4242, ppid: 4200, cpuTicks: 1534 + 287 });
  });

  it('rejects a line that is not a stat line', () => {
    expect(() => parseStat('hello')).toThrow(/not a \/proc\/PID\/stat line: "hello"/);
    expect(() => parseStat('12 (x) S 1 2')).toThrow(/not a \/proc\/PID\/stat line/);
  });
});

describe('parseStatmResidentPages', () => {
  it('reads the resident field', () => {
    expect(parseStatmResidentPages('250000 12345 3000 100 0 40000 0\n')).toBe(12345);
  });
});

describe('parseSmapsRollup', () => {
  // Captured from a Node 24 process holding a 64 MB buffer (Linux 6.18).
  const ROLLUP = readFileSync(new URL('./testdata/smaps_rollup-node24.txt', import.meta.url), 'utf8');

  it('reads Rss, Pss and its anonymous, file and shmem parts, in bytes', () => {
    expect(parseSmapsRollup(ROLLUP)).toEqual({
      rss: 111444 * 1024,
      pss: 108553 * 1024,
      pssAnon: 74376 * 1024,
      pssFile: 34177 * 1024,
      pssShmem: 0,
      swapPss: 0,
    });
  });

  it('reads a kernel older than 5.7, which gives Pss without its parts', () => {
    const old = ROLLUP.split('\n')
      .filter((l) => !/^Pss_/.test(l))
      .join('\n');
    const rollup = parseSmapsRollup(old);
    expect(rollup.pss).toBe(108553 * 1024);
    expect(rollup.pssAnon).toBeUndefined();
  });

  it('rejects text without Rss or Pss', () => {
    expect(() => parseSmapsRollup('Rss: 12 kB\n')).toThrow(/not a \/proc\/PID\/smaps_rollup/);
  });
});

describe('treeOf', () => {
  it('collects a root and every descendant, and nothing else', () => {
    const stats = [
      { pid: 1, ppid: 0, cpuTicks: 0 },
      { pid: 10, ppid: 1, cpuTicks: 0 },
      { pid: 11, ppid: 10, cpuTicks: 0 },
      { pid: 12, ppid: 10, cpuTicks: 0 },
      { pid: 13, ppid: 12, cpuTicks: 0 },
      { pid: 20, ppid: 1, cpuTicks: 0 },
    ];
    expect(treeOf(10, stats).sort()).toEqual([10, 11, 12, 13]);
    expect(treeOf(99, stats)).toEqual([]);
  });
});

describe('treeCpu and treeRssBytes on this process', () => {
  it('sees CPU time grow while this process works, and a resident size', () => {
    const before = treeCpu(process.pid);
    // Spin for 0.3 s of this process's own CPU (not wall-clock: the machine may be busy).
    const start = process.cpuUsage();
    let spin = 0;
    while (process.cpuUsage(start).user + process.cpuUsage(start).system < 300_000) spin += Math.sqrt(spin + 1);
    const delta = cpuDelta(before, treeCpu(process.pid));
    expect(delta.totalSeconds).toBeGreaterThan(0.1);
    expect(delta.perPid.get(process.pid)).toBeGreaterThan(0.1);
    const rss = treeRssBytes(process.pid);
    expect(rss.processes).toBeGreaterThanOrEqual(1);
    expect(rss.perProcess.reduce((a, b) => a + b, 0)).toBe(rss.bytes);
    expect(rss.bytes).toBeGreaterThan(process.memoryUsage().rss / 2);
  });
});

describe('treePssBytes', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill();
  });

  it('counts pages shared by the processes of a tree once, where RSS summed counts them in each', async () => {
    // Two idle Node children: the node binary's pages they share with this process (and each
    // other) are in all three RSS figures, but split between them in PSS.
    for (let i = 0; i < 2; i += 1) {
      const child = spawn(process.execPath, ['-e', 'process.stdout.write("ready\\n"); setInterval(() => {}, 1000)'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      await once(child.stdout as NodeJS.ReadableStream, 'data');
    }
    const rss = treeRssBytes(process.pid);
    const pss = treePssBytes(process.pid);
    expect(pss.processes).toBeGreaterThanOrEqual(3);
    expect(pss.perProcess.length).toBe(pss.processes);
    expect(pss.perProcess.reduce((a, b) => a + b, 0)).toBe(pss.bytes);
    expect(pss.bytes).toBeGreaterThan(0);
    expect(pss.bytes).toBeLessThan(rss.bytes);
    // Its parts add up to it, give or take the kernel's rounding of each to a kB.
    if (pss.anon !== undefined)
      expect(Math.abs(pss.anon + (pss.file ?? 0) + (pss.shmem ?? 0) - pss.bytes)).toBeLessThanOrEqual(3 * 1024 * pss.processes);
  });
});
