/**
 * The peers certfleet's edge is measured against, each as its own process on loopback with a
 * configuration written to a temporary folder: the shared upstream (a one-worker nginx answering
 * a small static body: C, no proxying, a few microseconds a request, so it never dominates what
 * the servers under test spend), nginx with a static certificate, and Caddy with on-demand TLS.
 */
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnProc, type Proc } from '../../test/support/processes.js';

/** Debian installs nginx in /usr/sbin, which a non-root PATH may lack. */
export const NGINX = spawnSync('bash', ['-c', 'command -v nginx'], { encoding: 'utf8' }).stdout?.trim() || '/usr/sbin/nginx';

const tempDirs: string[] = [];

/** A temporary folder for one peer's configuration, logs and state, removed by {@link removePeerDirs}. */
export function peerDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `certfleet-bench-${label}-`));
  tempDirs.push(dir);
  return dir;
}

/** Removes every folder made by {@link peerDir} (once the peers have stopped). */
export function removePeerDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** nginx's `user` line: workers keep root's rights when the benchmark runs as root (temp folders are 0700). */
const userLine = () => (process.getuid?.() === 0 ? 'user root;' : '');

/** Temp paths nginx would otherwise put under /var/lib/nginx. */
const tempPaths = (dir: string) =>
  ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `${kind}_temp_path ${join(dir, kind)};`).join('\n  ');

function startNginx(name: string, dir: string, config: string): Promise<Proc> {
  const path = join(dir, 'nginx.conf');
  writeFileSync(path, config);
  const proc = spawnProc(name, NGINX, ['-p', dir, '-c', path, '-e', join(dir, 'error.log')]);
  const listen = /listen\s+([\d.]+):(\d+)/.exec(config);
  return waitForListening(proc, listen?.[1] ?? '127.0.0.1', Number(listen?.[2]));
}

/** Resolves once `host:port` accepts connections; rejects if the process exits first or after 15 s. */
async function waitForListening(proc: Proc, host: string, port: number): Promise<Proc> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (!proc.alive) throw new Error(`${proc.name} exited at start:\n${proc.tail()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(Number(port), host, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return proc;
    if (Date.now() > deadline) throw new Error(`${proc.name}: not listening on ${host}:${port} within 15 s:\n${proc.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface NginxUpstream {
  url: string;
  hostPort: string;
  proc: Proc;
}

/** The upstream behind all three servers: one nginx worker answering 200 "hello from upstream". */
export async function startNginxUpstream(port: number): Promise<NginxUpstream> {
  const dir = peerDir('upstream');
  const config = `${userLine()}
daemon off;
master_process on;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  ${tempPaths(dir)}
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / { default_type text/plain; return 200 "hello from upstream\\n"; }
  }
}
`;
  const proc = await startNginx('bench-upstream-nginx', dir, config);
  return { url: `http://127.0.0.1:${port}`, hostPort: `127.0.0.1:${port}`, proc };
}

export interface NginxServer {
  proc: Proc;
  port: number;
  /** One line per request: "r" when the TLS session was resumed, "." when not. */
  reuseLogPath: string;
}

/**
 * nginx under test: `worker_processes auto`, the static certificate for `name`, session cache
 * and tickets on (tickets keys are made by the master, so every worker resumes every ticket),
 * keep-alive to the upstream, the same X-Forwarded-* headers the edge adds. HTTP/2 on the same
 * port (`listen … http2`, the form nginx 1.22 knows; 1.25+ still takes it, with a deprecation
 * warning): ALPN offers h2 only to clients that ask, and neither bench/tls-load.c nor wrk sends
 * ALPN, so scenarios 1-4 stay HTTP/1.1.
 */
export async function startNginxServer(o: {
  port: number;
  name: string;
  chainPath: string;
  keyPath: string;
  upstream: string;
}): Promise<NginxServer> {
  const dir = peerDir('nginx');
  const reuseLogPath = join(dir, 'reuse.log');
  const config = `${userLine()}
daemon off;
master_process on;
worker_processes auto;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 8192; }
http {
  log_format reuse '$ssl_session_reused';
  # Also bounds requests per HTTP/2 connection (nginx >= 1.19.7; default 1000): h2load does not
  # reconnect after the GOAWAY that ends one, so a low limit would end scenario 7 early.
  keepalive_requests 1000000;
  ${tempPaths(dir)}
  upstream app { server ${o.upstream}; keepalive 128; }
  server {
    listen 127.0.0.1:${o.port} ssl http2 backlog=4096;
    server_name ${o.name};
    ssl_certificate ${o.chainPath};
    ssl_certificate_key ${o.keyPath};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:20m;
    ssl_session_timeout 1h;
    ssl_session_tickets on;
    # Buffered: a few bytes per request, to prove which handshakes resumed.
    access_log ${reuseLogPath} reuse buffer=64k flush=200ms;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto https;
      proxy_set_header X-Forwarded-Host $host;
    }
  }
}
`;
  const proc = await startNginx('bench-nginx', dir, config);
  return { proc, port: o.port, reuseLogPath };
}

export interface CaddyServer {
  proc: Proc;
  address: string;
  httpsPort: number;
  storageDir: string;
}

/**
 * Caddy under test, bound to `address` (another loopback address than the edge's, on the same
 * port numbers, because the one Pebble validates every name on one HTTP and one TLS port):
 * the static certificate for `name`, on-demand TLS for any other name the `ask` endpoint
 * allows, from the same Pebble (its listener certificate trusted), storage in a temp folder.
 */
export async function startCaddy(o: {
  address: string;
  httpPort: number;
  httpsPort: number;
  name: string;
  chainPath: string;
  keyPath: string;
  upstream: string;
  askUrl: string;
  directoryUrl: string;
  caRootPath: string;
}): Promise<CaddyServer> {
  const dir = peerDir('caddy');
  const storageDir = join(dir, 'storage');
  mkdirSync(storageDir);
  const proxy = `reverse_proxy ${o.upstream}`;
  const config = `{
  admin off
  skip_install_trust
  default_bind ${o.address}
  http_port ${o.httpPort}
  https_port ${o.httpsPort}
  acme_ca ${o.directoryUrl}
  acme_ca_root ${o.caRootPath}
  storage file_system ${storageDir}
  on_demand_tls {
    ask ${o.askUrl}
  }
}

https://${o.name} {
  tls ${o.chainPath} ${o.keyPath}
  ${proxy}
}

https:// {
  tls {
    on_demand
  }
  ${proxy}
}
`;
  const path = join(dir, 'Caddyfile');
  writeFileSync(path, config);
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') };
  const proc = spawnProc('bench-caddy', 'caddy', ['run', '--config', path, '--adapter', 'caddyfile'], { env, cwd: dir });
  await waitForListening(proc, o.address, o.httpsPort);
  return { proc, address: o.address, httpsPort: o.httpsPort, storageDir };
}

/** The first line a command prints (stdout or stderr: nginx -v writes to stderr), for the report's versions. */
export function versionOf(command: string, args: string[]): string {
  const run = spawnSync(command, args, { encoding: 'utf8' });
  const text = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim();
  return text.split('\n')[0]?.trim() || 'unknown';
}
