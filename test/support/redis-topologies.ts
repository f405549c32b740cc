import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { freePort, spawnProc, type Proc } from './processes.js';
import { until } from './wait.js';

/**
 * Redis topologies from Debian's redis-server, each process on free loopback ports: Sentinel
 * (a master, a replica, three sentinels), Cluster (three masters) and a TLS-only server. Every
 * process belongs to the test that started it; `stop()` ends them all.
 */

const redisArgs = (port: number, dir: string, extra: string[] = []) => [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  dir,
  '--daemonize',
  'no',
  ...extra,
];

async function startServer(label: string, args: string[], ready = 'Ready to accept connections'): Promise<Proc> {
  const proc = spawnProc(label, 'redis-server', args);
  await proc.waitForLine((line) => line.includes(ready), 15_000, `${label} ready`);
  return proc;
}

export interface SentinelTopology {
  masterName: string;
  /** `host:port` of each sentinel, as REDIS_SENTINELS takes them. */
  sentinels: string[];
  master: { port: number; proc: Proc };
  replica: { port: number; proc: Proc };
  /** The port of the master as the sentinels currently name it. */
  currentMasterPort(): Promise<number>;
  /** SIGKILL the current master (an outage, not a shutdown). */
  killMaster(): Promise<number>;
  stop(): Promise<void>;
}

/** 1 master, 1 replica, 3 sentinels (quorum 2), failing over 2 s after the master stops answering. */
export async function startSentinelTopology(masterName = 'certfleet'): Promise<SentinelTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'certfleet-sentinel-'));
  const [masterPort, replicaPort] = [await freePort(), await freePort()];
  const procs: Proc[] = [];
  const master = await startServer(`redis-master-${masterPort}`, redisArgs(masterPort, dir, ['--dbfilename', 'm.rdb']));
  procs.push(master);
  const replica = await startServer(
    `redis-replica-${replicaPort}`,
    redisArgs(replicaPort, dir, ['--dbfilename', 'r.rdb', '--replicaof', '127.0.0.1', String(masterPort)]),
  );
  procs.push(replica);
  const sentinels: string[] = [];
  for (let i = 0; i < 3; i += 1) {
    const port = await freePort();
    const file = join(dir, `sentinel-${port}.conf`);
    // Sentinel rewrites its own file, so each needs a writable one.
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${masterName} 2000`,
        `sentinel failover-timeout ${masterName} 10000`,
        `sentinel parallel-syncs ${masterName} 1`,
        '',
      ].join('\n'),
    );
    procs.push(await startServer(`redis-sentinel-${port}`, [file, '--sentinel'], 'Sentinel ID is'));
    sentinels.push(`127.0.0.1:${port}`);
  }
  const sentinelClient = () => {
    const [host, port] = (sentinels[0] as string).split(':') as [string, string];
    return new Redis(Number(port), host, { maxRetriesPerRequest: 1 });
  };
  const currentMasterPort = async () => {
    const client = sentinelClient();
    try {
      const [, port] = (await client.call('SENTINEL', 'get-master-addr-by-name', masterName)) as [string, string];
      return Number(port);
    } finally {
      client.disconnect();
    }
  };
  // Every sentinel must know the replica and the other sentinels before a failover can happen.
  await until(
    'the sentinels see the replica and each other',
    async () => {
      const client = sentinelClient();
      try {
        const info = (await client.call('SENTINEL', 'master', masterName)) as string[];
        const field = (name: string) => Number(info[info.indexOf(name) + 1]);
        return field('num-slaves') >= 1 && field('num-other-sentinels') >= 2;
      } finally {
        client.disconnect();
      }
    },
    30_000,
    200,
  );
  const byPort = new Map([
    [masterPort, master],
    [replicaPort, replica],
  ]);
  return {
    masterName,
    sentinels,
    master: { port: masterPort, proc: master },
    replica: { port: replicaPort, proc: replica },
    currentMasterPort,
    async killMaster() {
      const port = await currentMasterPort();
      const proc = byPort.get(port);
      if (!proc) throw new Error(`the sentinels name port ${port} as master, which this topology did not start`);
      proc.child.kill('SIGKILL');
      await proc.exited;
      return port;
    },
    async stop() {
      await Promise.all(procs.map((proc) => proc.stop()));
    },
  };
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10_000 > 65_535) continue;
    const busFree = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port + 10_000, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (busFree) return port;
  }
}

export interface RedisClusterTopology {
  /** `host:port` seeds, as REDIS_CLUSTER_NODES takes them. */
  nodes: string[];
  client(): Cluster;
  stop(): Promise<void>;
}

/** Three masters, no replicas, every slot assigned; resolves once `cluster_state:ok`. */
export async function startRedisCluster(): Promise<RedisClusterTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'certfleet-cluster-'));
  const ports = [await freeClusterPort(), await freeClusterPort(), await freeClusterPort()];
  const procs: Proc[] = [];
  for (const port of ports) {
    procs.push(
      await startServer(
        `redis-cluster-${port}`,
        redisArgs(port, dir, ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--dbfilename', `d-${port}.rdb`]),
      ),
    );
  }
  const nodes = ports.map((port) => `127.0.0.1:${port}`);
  execFileSync('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'pipe' });
  await until(
    'cluster_state:ok on every node',
    async () => {
      const states = await Promise.all(
        ports.map(async (port) => {
          const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
          try {
            return String(await client.call('CLUSTER', 'INFO')).includes('cluster_state:ok');
          } finally {
            client.disconnect();
          }
        }),
      );
      return states.every(Boolean);
    },
    30_000,
    200,
  );
  const clients: Cluster[] = [];
  return {
    nodes,
    client() {
      const client = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })));
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.disconnect();
      await Promise.all(procs.map((proc) => proc.stop()));
    },
  };
}

export interface TlsRedis {
  /** `rediss://` URL of the TLS port (the plain port is closed). */
  url: string;
  port: number;
  /** PEM files: the CA that signed the server's certificate, and a client certificate it signed. */
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  stop(): Promise<void>;
}

/**
 * A redis-server reachable only over TLS, with a certificate for 127.0.0.1 from a throwaway CA.
 * `requireClientCertificate` makes it refuse clients without a certificate from that CA.
 */
export async function startTlsRedis(options: { requireClientCertificate?: boolean } = {}): Promise<TlsRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'certfleet-redis-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: dir });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=certfleet test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  const leaf = (name: string, extension: string) => {
    writeFileSync(file(`${name}.ext`), `${extension}\n`);
    openssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  };
  leaf('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
  leaf('client', 'extendedKeyUsage=clientAuth');
  const port = await freePort();
  const proc = await startServer(
    `redis-tls-${port}`,
    redisArgs(0, dir, [
      '--tls-port',
      String(port),
      '--tls-cert-file',
      file('server.pem'),
      '--tls-key-file',
      file('server.key'),
      '--tls-ca-cert-file',
      file('ca.pem'),
      '--tls-auth-clients',
      options.requireClientCertificate ? 'yes' : 'no',
    ]),
  );
  return {
    url: `rediss://127.0.0.1:${port}`,
    port,
    caFile: file('ca.pem'),
    clientCertFile: file('client.pem'),
    clientKeyFile: file('client.key'),
    async stop() {
      await proc.stop();
    },
  };
}

export interface PlainRedis {
  port: number;
  url: string;
  dir: string;
  proc: Proc;
  client(options?: { username?: string; password?: string }): Redis;
  stop(): Promise<void>;
}

/**
 * One redis-server on a free port with extra command-line arguments (`extra` may start with a
 * config file path, as redis-server takes it): for tests of server settings (eviction policy,
 * ACL files, renamed commands, replicas).
 */
export async function startPlainRedis(label: string, extra: (dir: string) => string[] = () => []): Promise<PlainRedis> {
  const dir = mkdtempSync(join(tmpdir(), `certfleet-${label}-`));
  const port = await freePort();
  const args = extra(dir);
  // redis-server takes a config file only as its first argument.
  const file = args[0] && !args[0].startsWith('--') ? [args[0]] : [];
  const proc = await startServer(`${label}-${port}`, [...file, ...redisArgs(port, dir, args.slice(file.length))]);
  const clients: Redis[] = [];
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    proc,
    client(options = {}) {
      const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, ...options });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.disconnect();
      await proc.stop();
    },
  };
}
