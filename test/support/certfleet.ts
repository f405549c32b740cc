import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, REPO_ROOT, spawnProc, type Proc } from './processes.js';

export const CLI = join(REPO_ROOT, 'apps/cli/dist/bin.js');

export type Role = 'edge' | 'issuer' | 'renewer' | 'dashboard';

const READY: Record<Role, string> = {
  edge: 'edge listening',
  issuer: 'issuer ready',
  renewer: 'renewer ready',
  dashboard: 'dashboard listening',
};

/** A fresh key prefix, so tests sharing one Redis never see each other. */
export const newPrefix = (label = 'test') => `${label}-${randomBytes(4).toString('hex')}`;

/** Starts `certfleet run ROLE` with `env` on top of this process's environment, and waits until it is ready. */
export async function startRole(role: Role, env: NodeJS.ProcessEnv, name: string = role): Promise<Proc> {
  const proc = spawnProc(name, process.execPath, [CLI, 'run', role], { env: { ...process.env, ...env } });
  await proc.waitForLog(READY[role], 60_000);
  return proc;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the certfleet CLI to completion. */
export function cli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface EdgePorts {
  httpsPort: number;
  httpPort: number;
  metricsPort: number;
}

export async function edgePorts(): Promise<EdgePorts> {
  const [httpsPort, httpPort, metricsPort] = await Promise.all([freePort(), freePort(), freePort()]);
  return { httpsPort, httpPort, metricsPort };
}

/**
 * An edge's ports and bind address, and a local certificate store of its own (a fresh directory
 * each call: an edge restarted with the same store passes the same environment again).
 */
export function edgeEnv(ports: EdgePorts): NodeJS.ProcessEnv {
  return {
    EDGE_LOCAL_STORE_PATH: join(tmpdir(), `certfleet-edge-store-${ports.httpsPort}-${randomBytes(4).toString('hex')}`),
    EDGE_HTTPS_PORT: String(ports.httpsPort),
    EDGE_HTTP_PORT: String(ports.httpPort),
    EDGE_METRICS_PORT: String(ports.metricsPort),
    EDGE_BIND_ADDRESS: '127.0.0.1',
  };
}

/** The value of one sample from an edge's /metrics, e.g. `metric(port, 'certfleet_edge_limited_total', { limit: 'new_names_per_ip' })`; 0 when absent. */
export async function metric(metricsPort: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = text.split('\n').find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
