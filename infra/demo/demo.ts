/**
 * `npm run demo`: the whole certfleet stack on this machine, on an embedded local default:
 * Redis (the one at REDIS_URL under a fresh prefix, else a private redis-server), Pebble with
 * challtestsrv as the CA, a sample upstream, and every role (edge, issuer, renewer, dashboard)
 * as real processes. Prints the one curl that gets a certificate on the first request, then
 * runs until Ctrl-C.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newKeyLine, writeKeyFile } from '../../test/support/at-rest-keys.js';
import { cli, startRole } from '../../test/support/certfleet.js';
import { startPebble } from '../../test/support/pebble.js';
import { freePort, REPO_ROOT, stopAll, type Proc } from '../../test/support/processes.js';
import { startUpstream } from '../../test/support/upstream.js';
import { demoRedis } from './demo-redis.js';

const NAME = process.env.DEMO_NAME ?? 'hello.certfleet.example';

async function portOr(preferred: number): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => void freePort().then(resolve));
    server.listen(preferred, '127.0.0.1', () => server.close(() => resolve(preferred)));
  });
}

async function main(): Promise<void> {
  const say = (line: string) => process.stdout.write(`demo: ${line}\n`);
  const redis = await demoRedis(process.env);
  const { url: redisUrl, prefix: PREFIX } = redis;
  say(`Redis at ${redisUrl} (${redis.origin}; keys under "${PREFIX}:")`);

  const dir = join(REPO_ROOT, '.cache', 'demo');
  mkdirSync(dir, { recursive: true });
  // The at-rest key that seals every private key in Redis and on the edge's disk: the one named
  // by CERTFLEET_KEK_FILE, else the demo's own, made once (what `openssl rand -base64 32` makes).
  const kekFile = process.env.CERTFLEET_KEK_FILE || join(dir, 'kek');
  if (!existsSync(kekFile)) writeKeyFile([newKeyLine()], kekFile);
  say(`at-rest key file ${kekFile}`);

  const [httpsPort, httpPort, dashboardPort] = await Promise.all([portOr(8443), portOr(8080), portOr(3000)]);
  const pebble = await startPebble({ httpPort, name: 'demo-pebble' });
  const upstream = await startUpstream();
  const env: NodeJS.ProcessEnv = {
    REDIS_URL: redisUrl,
    CERTFLEET_PREFIX: PREFIX,
    CERTFLEET_KEK_FILE: kekFile,
    ACME_DIRECTORY_URL: pebble.directoryUrl,
    ACME_CA_BUNDLE: pebble.listenerCertPath,
    UPSTREAM_URL: upstream.url,
    EDGE_HTTPS_PORT: String(httpsPort),
    EDGE_HTTP_PORT: String(httpPort),
    EDGE_BIND_ADDRESS: '127.0.0.1',
    DASHBOARD_PORT: String(dashboardPort),
    DASHBOARD_BIND: '127.0.0.1',
    DASHBOARD_TOKEN: process.env.DASHBOARD_TOKEN ?? 'demo-token-change-me',
    // The /v1 hostname API and the inventory page's Retry button.
    API_TOKEN: process.env.API_TOKEN ?? 'demo-api-token-change-me',
    RENEW_TICK: '5s',
    // Each run has a new CA: last run's certificates in the edge's local store would not verify.
    EDGE_LOCAL_STORE_PATH: mkdtempSync(join(tmpdir(), 'certfleet-demo-edge-')),
  };
  const roles: Proc[] = [];
  for (const role of ['issuer', 'edge', 'renewer', 'dashboard'] as const) {
    roles.push(await startRole(role, env, `demo-${role}`));
    say(`${role} running`);
  }
  const added = await cli(['domains', 'add', NAME], env);
  if (added.code !== 0) throw new Error(`could not allow ${NAME}: ${added.stderr}`);

  const rootPath = join(dir, 'pebble-root.pem');
  writeFileSync(rootPath, await pebble.rootPem());

  process.stdout.write(`
certfleet is running: edge https://127.0.0.1:${httpsPort} (http :${httpPort}), issuer, renewer,
dashboard http://127.0.0.1:${dashboardPort}/ (hostnames; the issue queue at /queues; token: ${env.DASHBOARD_TOKEN}; API token, for Retry and
/v1: ${env.API_TOKEN}), CA: Pebble at ${pebble.directoryUrl}.
${NAME} is allowed and has no certificate yet. The first request gets one, issued by Pebble on the spot:

  curl -v --resolve ${NAME}:${httpsPort}:127.0.0.1 --cacert ${rootPath} https://${NAME}:${httpsPort}/

Allow more names:   REDIS_URL=${redisUrl} CERTFLEET_PREFIX=${PREFIX} ./bin/certfleet domains add NAME
See certificates:   REDIS_URL=${redisUrl} CERTFLEET_PREFIX=${PREFIX} ./bin/certfleet certs ls
Rotate the key:     put a new line first in ${kekFile}, restart, then
                    REDIS_URL=${redisUrl} CERTFLEET_PREFIX=${PREFIX} CERTFLEET_KEK_FILE=${kekFile} ./bin/certfleet keys rotate
Logs:               .cache/test-logs/demo-*.log
Stop:               Ctrl-C
`);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  say('stopping');
  await Promise.all(roles.map((proc) => proc.stop()));
  await upstream.close();
  await redis.release();
  await stopAll();
}

main().catch(async (error: unknown) => {
  process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
  await stopAll();
  process.exit(1);
});
