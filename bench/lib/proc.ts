/**
 * A server's own CPU time and memory, read from /proc: utime + stime (and RSS, and PSS) summed
 * over the server's whole process tree (nginx master + workers, the edge's cluster primary + workers).
 * Linux only. Children that exit during a run take their CPU with them (their parent's cutime
 * only grows once reaped): the servers measured here keep their processes for the whole run.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
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
  const rest = line
    .slice(close + 1)
    .trim()
    .split(/\s+/);
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

/**
 * A process's memory from /proc/PID/smaps_rollup (Linux >= 4.14), in bytes. PSS (proportional
 * set size) charges each resident page to the processes mapping it in equal shares: a page the
 * primary and two workers share (code, the binary, an LMDB map) counts a third in each, so PSS
 * summed over a tree counts it once, where RSS summed counts it three times.
 */
export interface SmapsRollup {
  rss: number;
  pss: number;
  /** PSS split by kind (Linux >= 5.7): anonymous (heaps), file-backed (binaries, mapped files), shmem. */
  pssAnon?: number;
  pssFile?: number;
  pssShmem?: number;
  /** Swapped-out pages, shared proportionally like PSS. */
  swapPss: number;
}

/** Parses /proc/PID/smaps_rollup (its "Name: N kB" lines). Throws when Rss or Pss is missing. */
export function parseSmapsRollup(text: string): SmapsRollup {
  const kb = new Map<string, number>();
  for (const m of text.matchAll(/^(\w+):\s+(\d+) kB$/gm)) kb.set(m[1] as string, Number(m[2]) * 1024);
  const rss = kb.get('Rss');
  const pss = kb.get('Pss');
  if (rss === undefined || pss === undefined) throw new Error(`not a /proc/PID/smaps_rollup: "${text.slice(0, 120)}"`);
  const rollup: SmapsRollup = { rss, pss, swapPss: kb.get('SwapPss') ?? 0 };
  for (const [key, field] of [
    ['Pss_Anon', 'pssAnon'],
    ['Pss_File', 'pssFile'],
    ['Pss_Shmem', 'pssShmem'],
  ] as const) {
    const value = kb.get(key);
    if (value !== undefined) rollup[field] = value;
  }
  return rollup;
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

/**
 * Memory of `root` and its descendants counted once: PSS from each process's smaps_rollup,
 * summed (and its anonymous / file / shmem parts, when the kernel gives them). Reading
 * smaps_rollup needs the right to ptrace the process: the benchmark's own children qualify.
 */
export function treePssBytes(root: number): {
  bytes: number;
  processes: number;
  perProcess: number[];
  anon?: number;
  file?: number;
  shmem?: number;
} {
  const pids = treeOf(root, readStats());
  const rollups: SmapsRollup[] = [];
  for (const pid of pids) {
    try {
      rollups.push(parseSmapsRollup(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')));
    } catch (error) {
      // Exited meanwhile; anything else (no smaps_rollup, no permission) must not pass as 0 bytes.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
  const sum = (pick: (r: SmapsRollup) => number | undefined) =>
    rollups.every((r) => pick(r) !== undefined) ? rollups.reduce((a, r) => a + (pick(r) as number), 0) : undefined;
  const perProcess = rollups.map((r) => r.pss);
  const result: ReturnType<typeof treePssBytes> = { bytes: perProcess.reduce((a, b) => a + b, 0), processes: pids.length, perProcess };
  const anon = sum((r) => r.pssAnon);
  const file = sum((r) => r.pssFile);
  const shmem = sum((r) => r.pssShmem);
  if (anon !== undefined) result.anon = anon;
  if (file !== undefined) result.file = file;
  if (shmem !== undefined) result.shmem = shmem;
  return result;
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

/**
 * The Node each process of `root`'s tree runs, asked of the binary it was started from
 * (/proc/PID/exe): "v24.22.3 (OpenSSL 3.5.4)", one entry per distinct binary. What the report
 * calls the edge's Node is what the edge ran on, not what the benchmark script runs on.
 */
export function nodeVersionsOfTree(root: number): string[] {
  const binaries = new Set<string>();
  for (const pid of treeOf(root, readStats())) {
    try {
      binaries.add(readlinkSync(`/proc/${pid}/exe`));
    } catch {
      // Exited meanwhile.
    }
  }
  return [...binaries].map((binary) =>
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal for the child Node to evaluate
    execFileSync(binary, ['-p', '`${process.version} (OpenSSL ${process.versions.openssl})`'], { encoding: 'utf8' }).trim(),
  );
}
