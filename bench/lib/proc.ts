/**
 * A server's own CPU time and memory, read from /proc: utime + stime (and RSS) summed over the
 * server's whole process tree (nginx master + workers, the edge's cluster primary + workers).
 * Linux only. Children that exit during a run take their CPU with them (their parent's cutime
 * only grows once reaped): the servers measured here keep their processes for the whole run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface ProcStat {
  pid: number;
  ppid: number;
  /** User plus system CPU time, in clock ticks. */
  cpuTicks: number;
}

/**
 * Parses one /proc/PID/stat line. The command name (field 2) is in parentheses and may itself
 * hold spaces and parentheses, so the fields are counted from the last ")".
 */
export function parseStat(line: string): ProcStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/PID/stat line: "${line.slice(0, 80)}"`);
  const pid = Number(line.slice(0, open).trim());
  // After ")": state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8) flags(9) minflt(10)
  // cminflt(11) majflt(12) cmajflt(13) utime(14) stime(15) ...
  const rest = line.slice(close + 1).trim().split(/\s+/);
  const field = (n: number) => Number(rest[n - 3]);
  const stat = { pid, ppid: field(4), cpuTicks: field(14) + field(15) };
  if (![stat.pid, stat.ppid, stat.cpuTicks].every(Number.isFinite) || rest.length < 13) {
    throw new Error(`not a /proc/PID/stat line: "${line.slice(0, 80)}"`);
  }
  return stat;
}

/** Parses /proc/PID/statm: the resident set (field 2), in pages. */
export function parseStatmResidentPages(text: string): number {
  const pages = Number(text.trim().split(/\s+/)[1]);
  if (!Number.isFinite(pages)) throw new Error(`not a /proc/PID/statm line: "${text.slice(0, 80)}"`);
  return pages;
}

/** The pids of `root` and every descendant, given every process's stat. */
export function treeOf(root: number, stats: readonly ProcStat[]): number[] {
  const children = new Map<number, number[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  const known = new Set(stats.map((s) => s.pid));
  const tree: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift() as number;
    if (!known.has(pid)) continue;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
const PAGE_BYTES = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim());

function readStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      stats.push(parseStat(readFileSync(`/proc/${entry}/stat`, 'utf8')));
    } catch {
      // The process exited between readdir and read.
    }
  }
  return stats;
}

export interface TreeSample {
  /** CPU seconds (user + system) of each process in the tree, by pid. */
  perPid: Map<number, number>;
  totalSeconds: number;
}

/** CPU seconds used so far by `root` and its descendants. */
export function treeCpu(root: number): TreeSample {
  const stats = readStats();
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const perPid = new Map<number, number>();
  for (const pid of treeOf(root, stats)) perPid.set(pid, (byPid.get(pid)?.cpuTicks ?? 0) / CLOCK_TICKS);
  return { perPid, totalSeconds: [...perPid.values()].reduce((a, b) => a + b, 0) };
}

/** CPU seconds each process of the tree used between two samples (processes in both). */
export function cpuDelta(before: TreeSample, after: TreeSample): { totalSeconds: number; perPid: Map<number, number> } {
  const perPid = new Map<number, number>();
  for (const [pid, seconds] of after.perPid) perPid.set(pid, seconds - (before.perPid.get(pid) ?? 0));
  return { totalSeconds: [...perPid.values()].reduce((a, b) => a + b, 0), perPid };
}

/** Resident memory of `root` and its descendants, in bytes (shared pages counted in each process). */
export function treeRssBytes(root: number): { bytes: number; processes: number; perProcess: number[] } {
  const pids = treeOf(root, readStats());
  const perProcess: number[] = [];
  for (const pid of pids) {
    try {
      perProcess.push(parseStatmResidentPages(readFileSync(`/proc/${pid}/statm`, 'utf8')) * PAGE_BYTES);
    } catch {
      // Exited meanwhile.
    }
  }
  return { bytes: perProcess.reduce((a, b) => a + b, 0), processes: pids.length, perProcess };
}
