import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, mkdirSync, openSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname;
const LOG_DIR = join(REPO_ROOT, '.cache', 'test-logs');

const handedOut = new Set<number>();

/**
 * Ports handed out by any test process on this machine: two e2e files run at once, and a port
 * chosen for a process that has not bound it yet must not be chosen by the other file too. One
 * file per port, created exclusively; this process removes its own at exit, and a file left by
 * a crashed run is taken over after an hour.
 */
const RESERVATIONS = join(tmpdir(), 'certfleet-test-ports');
const reserved: string[] = [];
process.once('exit', () => {
  for (const path of reserved) rmSync(path, { force: true });
});

function reserve(port: number): boolean {
  mkdirSync(RESERVATIONS, { recursive: true });
  const path = join(RESERVATIONS, String(port));
  try {
    closeSync(openSync(path, 'wx'));
  } catch {
    try {
      if (Date.now() - statSync(path).mtimeMs < 3_600_000) return false;
      utimesSync(path, new Date(), new Date());
    } catch {
      return false;
    }
  }
  reserved.push(path);
  return true;
}

/**
 * A free TCP port on loopback, never one handed out before by this or another test process
 * still running: the OS would offer a port again while it is still free, that is until the
 * process it was chosen for binds it.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
      });
    });
    if (!handedOut.has(port) && reserve(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** A child process whose output is kept line by line (and written to .cache/test-logs/NAME.log). */
export class Proc {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    mkdirSync(LOG_DIR, { recursive: true });
    const file = createWriteStream(join(LOG_DIR, `${name}.log`));
    let partial = '';
    const onData = (chunk: Buffer) => {
      file.write(chunk);
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      if (parts.length) {
        this.lines.push(...parts);
        for (const wake of this.waiters) wake();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        file.end();
        for (const wake of this.waiters) wake();
        resolve({ code, signal });
      }),
    );
    running.add(this);
    void this.exited.then(() => running.delete(this));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Lines so far that parse as JSON log records with this `msg`. */
  logs(msg: string): Record<string, unknown>[] {
    return this.lines.flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        return record.msg === msg ? [record] : [];
      } catch {
        return [];
      }
    });
  }

  /** Resolves with the first line (from `fromIndex` on) that `match` accepts; rejects on exit or timeout. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number, what: string, fromIndex = 0): Promise<string> {
    return new Promise((resolve, reject) => {
      let seen = fromIndex;
      const check = () => {
        for (; seen < this.lines.length; seen += 1) {
          const line = this.lines[seen] as string;
          if (match(line)) return finish(() => resolve(line));
        }
        if (!this.alive) finish(() => reject(new Error(`${this.name} exited before ${what}:\n${this.tail()}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms:\n${this.tail()}`))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  waitForLog(msg: string, timeoutMs = 30_000): Promise<string> {
    return this.waitForLine((line) => line.includes(`"msg":"${msg}"`), timeoutMs, `log "${msg}"`);
  }

  tail(count = 25): string {
    return this.lines.slice(-count).join('\n');
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      const result = await this.exited;
      clearTimeout(timer);
      return result;
    }
    return this.exited;
  }
}

const running = new Set<Proc>();
process.once('exit', () => {
  for (const proc of running) proc.child.kill('SIGKILL');
});

export function spawnProc(
  name: string,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Proc {
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Proc(name, child);
}

/** Stops every process these fixtures started and that still runs. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((proc) => proc.stop()));
}
