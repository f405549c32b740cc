/**
 * Scenarios 1, 2 and 6 are driven by bench/tls-load.c (full or resumed handshakes, one request
 * per connection; or one handshake for each of many names): wrk cannot drive them, it resumes its sessions when it reconnects, and a Node
 * client spent more CPU than the servers it measured. This builds it (gcc, libssl-dev) into
 * .cache/bench when missing or older than its source, runs it and reads its counts.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../test/support/processes.js';
import type { Target } from './clients.js';

export type LoadMode = 'full' | 'resumed';

export interface LoadResult {
  connections: number;
  resumed: number;
  ok: number;
  errors: number;
}

const SOURCE = join(REPO_ROOT, 'bench', 'tls-load.c');
const BINARY = join(REPO_ROOT, '.cache', 'bench', 'tls-load');

/** Compiles the client when needed; returns its path. */
export function tlsLoadBinary(): string {
  if (!existsSync(BINARY) || statSync(BINARY).mtimeMs < statSync(SOURCE).mtimeMs) {
    mkdirSync(join(REPO_ROOT, '.cache', 'bench'), { recursive: true });
    try {
      execFileSync('gcc', ['-O2', '-o', BINARY, SOURCE, '-lssl', '-lcrypto', '-lpthread'], { stdio: 'pipe' });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
      throw new Error(`building bench/tls-load.c failed (needs gcc and libssl-dev; bench/setup-peers.sh installs them):\n${stderr}`);
    }
  }
  return BINARY;
}

/** Reads the client's one JSON line, checking every count is there. */
export function parseLoadOutput(stdout: string): LoadResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout.trim());
  } catch {
    throw new Error(`tls-load printed no JSON: "${stdout.slice(0, 200)}"`);
  }
  const record = parsed as Record<string, unknown>;
  const keys = ['connections', 'resumed', 'ok', 'errors'] as const;
  for (const key of keys) {
    if (!Number.isInteger(record[key]) || (record[key] as number) < 0)
      throw new Error(`tls-load's output has no count "${key}": "${stdout.trim()}"`);
  }
  return {
    connections: record.connections as number,
    resumed: record.resumed as number,
    ok: record.ok as number,
    errors: record.errors as number,
  };
}

/** Runs the client for `seconds` with `threads` connections at a time. */
export function runLoad(o: { target: Target; name: string; mode: LoadMode; seconds: number; threads: number }): Promise<LoadResult> {
  return run([o.target.address, String(o.target.port), o.name, String(o.seconds), String(o.threads), o.mode], o.seconds);
}

/**
 * `count` handshakes (no request), the i-th with SNI = `pattern` with its one `%d` replaced by
 * i, `threads` at a time; stops early after `maxSeconds`.
 */
export function runDistinct(o: {
  target: Target;
  pattern: string;
  count: number;
  threads: number;
  maxSeconds: number;
}): Promise<LoadResult> {
  return run(
    [o.target.address, String(o.target.port), o.pattern, String(o.maxSeconds), String(o.threads), 'distinct', String(o.count)],
    o.maxSeconds,
  );
}

function run(args: string[], seconds: number): Promise<LoadResult> {
  const o = { seconds };
  return new Promise((resolve, reject) => {
    execFile(tlsLoadBinary(), args, { timeout: (o.seconds + 60) * 1000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`tls-load ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      try {
        resolve(parseLoadOutput(stdout));
      } catch (parseError) {
        reject(parseError instanceof Error ? parseError : new Error(String(parseError)));
      }
    });
  });
}
