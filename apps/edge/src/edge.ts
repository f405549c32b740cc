import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { Server } from 'node:net';
import { DEFAULT_CIPHERS } from 'node:tls';
import type { ConnectionLimitsConfig, EdgeConfig } from '@certfleet/config';
import { DEFAULT_FORBIDDEN_SUFFIXES } from '@certfleet/domain';
import { createRegistry, errorMessage, serveMetrics, shareMetricsWithClusterPrimary, type Logger } from '@certfleet/observability';
import { createDecisionService, createPolicyChainFromConfig, evaluationTimeoutMs } from '@certfleet/policy';
import { createIssueQueue, createIssueQueueEvents } from '@certfleet/queue';
import { createKeyring } from '@certfleet/sealing';
import { connectTo, createStore, redisReady, warnAboutRedisSettings } from '@certfleet/store';
import { SecureContextCache, createNativeMemoryReclaimer, createSelfSignedCertificate } from '@certfleet/tls';
import { createNewNameAdmission } from './admission.js';
import { createAlpnChallenges } from './alpn-challenges.js';
import { createCertificateResolver } from './certificate-resolver.js';
import { createEdgeMetrics, exportReadiness } from './metrics.js';
import { createHttpHandler } from './challenge-server.js';
import { drainable } from './drain.js';
import { createConnectionLimiter } from './connection-limits.js';
import { guardProcess } from './crash-guard.js';
import { listenModeFor, WORKER_LISTENING } from './listen-mode.js';
import { shareSessionTicketKeys } from './session-tickets.js';
import { queueIssuance } from './issuance.js';
import { createUpstreamProxy } from './proxy.js';
import { createServedNames } from './served-names.js';
import { createVisitorServer } from './servers.js';
import { createLocalCertificates, openLocalStore } from './local-certificates.js';

/**
 * How long an edge whose local store holds a fallback certificate waits for Redis at start
 * before serving without it (an edge with nothing on disk waits for Redis as long as it takes).
 */
const REDIS_START_WAIT_MS = 2_000;

export interface RunningEdge {
  httpsPort: number;
  httpPort: number;
  close(): Promise<void>;
}

/**
 * The edge: terminates TLS for every customer name, answers ACME challenges, proxies to the
 * upstream. Reads certificates, enqueues issuance; never orders or renews itself.
 */
export async function startEdge(config: EdgeConfig, logger: Logger, options: { clusterWorker?: boolean } = {}): Promise<RunningEdge> {
  // The handshake path must fail fast when Redis is away: no offline queue, bounded commands.
  const redis = connectTo(config.redis, { failFast: true, commandTimeoutMs: 1_000, connectionName: 'certfleet-edge' });
  const bullRedis = connectTo(config.redis, { forBullmq: true, connectionName: 'certfleet-edge-events' });
  // Work off the handshake path (served-name records, ticket-key refreshes) has a connection of
  // its own, so the handshake path's connection carries only what handshakes need.
  const backgroundRedis = connectTo(config.redis, {
    failFast: true,
    commandTimeoutMs: 5_000,
    connectionName: 'certfleet-edge-background',
  });
  redis.on('error', (error) => logger.warn({ err: errorMessage(error) }, 'redis connection error'));
  bullRedis.on('error', () => undefined);
  backgroundRedis.on('error', () => undefined);
  // Every private key and secret in Redis and on disk is sealed with it (CERTFLEET_KEK_FILE).
  const keyring = createKeyring(config.dataKeys);
  // http-01 answers may wait for Redis (it is the CA asking, not a visitor): through a failover
  // (about 4 s with Sentinel's 2 s down-after in test/e2e/redis-sentinel.test.ts) a fail-fast
  // lookup would answer 404, fail the validation and cool the name down for a minute. Queued
  // while reconnecting, bounded by 8 s (below the CAs' own validation timeouts, 10 s or more).
  const challengeRedis = connectTo(config.redis, { commandTimeoutMs: 8_000, connectionName: 'certfleet-edge-challenges' });
  challengeRedis.on('error', () => undefined);
  // Evictions only follow writes, which start once the edge serves (metrics exist by then).
  const localStore =
    config.localStore &&
    openLocalStore(config.localStore, config.prefix, keyring, (count) => {
      metrics.localStoreEvictions.inc(count);
      logger.info(
        { evicted: count, maxBytes: config.localStore?.maxBytes },
        'local certificate store full; evicted the certificates served longest ago',
      );
    });
  // With certificates and the fallback on disk, a restart during a Redis outage still serves them.
  const redisUp = await readyWithin(
    [redis, backgroundRedis],
    localStore && (config.fallback || localStore.fallback()) ? REDIS_START_WAIT_MS : Infinity,
  );
  if (!redisUp) logger.warn({ localCertificates: localStore?.count }, 'Redis is not answering; serving the local store until it does');
  // Off the handshake path; the primary of a clustered edge never connects, so each worker checks.
  void warnAboutRedisSettings(backgroundRedis, logger);
  const store = createStore(redis, config.prefix, { keyring });
  const backgroundStore = createStore(backgroundRedis, config.prefix, { keyring });
  const queueOptions = { prefix: store.queuePrefix };
  const queue = createIssueQueue({ ...queueOptions, connection: redis });
  const events = createIssueQueueEvents({ ...queueOptions, connection: bullRedis });
  queue.on('error', (error) => logger.warn({ err: errorMessage(error) }, 'issue queue error'));
  events.on('error', (error) => logger.warn({ err: errorMessage(error) }, 'queue events error'));
  if (redisUp) await events.waitUntilReady();

  const fallback =
    config.fallback ??
    (redisUp || !localStore?.fallback()
      ? await store.secrets.fallback(() => createSelfSignedCertificate({ commonName: 'certfleet-fallback.invalid', validDays: 3650 }))
      : localStore.fallback()!);
  if (!config.fallback) await localStore?.saveFallback(fallback);
  // Evicted contexts free their OpenSSL memory only when V8 collects them: ask for that after
  // an eighth of the cache's bytes have been let go, so RSS stays near the cache's bound.
  const reclaimer = createNativeMemoryReclaimer(Math.max(4 * 1024 * 1024, config.certCacheBytes / 8));
  const cache = new SecureContextCache({ max: config.certCacheSize, maxBytes: config.certCacheBytes, onRelease: reclaimer.released });
  const alpn = createAlpnChallenges({ challenges: store.challenges, logger, http2: config.connections.http2 });
  const local =
    localStore &&
    createLocalCertificates({
      store: localStore,
      certificates: store.certificates,
      background: backgroundStore.certificates,
      redisConnected: () => redis.status === 'ready',
      onReplaced: (name) => cache.invalidate(name),
      onChecked: (name) => void alpn.check(name).catch(() => undefined),
      logger,
    });
  redis.on('ready', () => void local?.checkPending());
  // A stored certificate also ends a refusal this process remembered for the name (issued through another edge).
  const unsubscribe = await store.subscribeCertChanged((name) => {
    cache.invalidate(name);
    local?.changed(name);
    sniCallback.forget(name);
  }, alpn.onChanged);
  const registry = createRegistry('edge');
  if (options.clusterWorker) shareMetricsWithClusterPrimary(registry);
  const metrics = createEdgeMetrics(registry);
  const decisions = createDecisionService({
    chain: createPolicyChainFromConfig(config.policy, store),
    store: store.decisions,
    localMax: 100_000,
    evaluationTimeoutMs: evaluationTimeoutMs(config.policy),
    onEvaluated: (name, decision) => {
      metrics.decisions.inc({ policy: decision.policy, outcome: decision.allowed ? 'allow' : 'deny' });
      logger.info({ domain: name, ...decision }, 'policy decision');
    },
  });
  const served = createServedNames({ store: backgroundStore.served, intervalMs: config.servedRecordIntervalMs, logger });
  const sniCallback = createCertificateResolver({
    cache,
    local,
    certificates: local ? { get: local.load } : store.certificates,
    nameStates: store.nameStates,
    pauses: store.pauses,
    alpn,
    decisions,
    admitNewName: createNewNameAdmission({
      buckets: store.budgets,
      keys: store.budgetKeys,
      perIp: config.limits.newNamesPerIp,
      fleet: config.limits.newNamesFleet,
    }),
    refusedNameTtlMs: config.limits.newNameNegativeTtlMs,
    issueAndWait: queueIssuance(queue, events),
    issueWaitMs: config.issueWaitMs,
    maxPendingIssues: config.limits.maxPendingIssues,
    maxWaitingHandshakes: config.limits.maxWaitingHandshakes,
    hostnameOptions: { forbiddenSuffixes: [...DEFAULT_FORBIDDEN_SUFFIXES, ...config.policy.forbiddenSuffixes] },
    metrics,
    logger,
    onServed: local
      ? (name) => {
          served.note(name);
          local.noteServed(name);
        }
      : served.note,
  });
  const metricsServer =
    config.metricsPort === undefined ? undefined : await serveMetrics(registry, config.metricsPort, config.metricsBindAddress);

  const proxy = await createUpstreamProxy({
    upstreamUrl: config.upstreamUrl,
    config: config.upstream,
    store,
    hasCertificate: (name) => cache.peek(name) !== undefined,
    hasStoredCertificate: async (name) => local?.has(name) || (await store.certificates.describe(name)) !== null,
    publicHttpsPort: config.publicHttpsPort,
    redisEndpoints: config.redis.endpoints,
    metrics,
    logger,
  });
  const https = createVisitorServer({
    http2: config.connections.http2,
    tls: {
      cert: fallback.certPem,
      key: fallback.keyPem,
      SNICallback: sniCallback,
      ALPNCallback: alpn.alpnCallback,
      // TLS 1.2 clients that can do both get ECDSA: Node's default order lists RSA suites first.
      ciphers: ecdsaFirst(DEFAULT_CIPHERS),
      honorCipherOrder: true,
      // A ticket stays decryptable for one to two rotations (as "current", then "previous").
      // The session's own lifetime must cover both: OpenSSL 3.5 (Node 24) refuses a ticket
      // older than this even when its key still decrypts it, where 3.0 (Node 20) let it by.
      sessionTimeout: Math.max(1, Math.floor((2 * config.ticketKeyRotateMs) / 1000)),
      handshakeTimeout: config.connections.handshakeTimeoutMs,
    },
    http1Timeouts: visitorTimeouts(config.connections),
    limits: config.connections,
    onRequest: proxy.web,
    onSessionClosed: (reason) => metrics.connectionsClosed.inc({ reason }),
  });
  https.on('upgrade', proxy.ws);
  https.on('tlsClientError', (error: NodeJS.ErrnoException) => {
    if (error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') metrics.connectionsClosed.inc({ reason: 'handshake_timeout' });
    logger.debug({ err: errorMessage(error) }, 'TLS handshake failed');
  });
  const limiter = createConnectionLimiter({
    maxConnections: config.connections.maxConnections,
    maxPerClient: config.connections.maxConnectionsPerIp,
    onRefused: (limit) => metrics.connectionsRefused.inc({ limit }),
  });
  limiter.guard(https);
  https.on('secureConnection', (socket) => metrics.handshakes.inc({ resumed: socket.isSessionReused() ? 'yes' : 'no' }));
  const tickets = await shareSessionTicketKeys({
    server: https,
    store: backgroundStore.ticketKeys,
    rotateEveryMs: config.ticketKeyRotateMs,
    logger,
  });
  const httpsDrain = drainable(https);
  let crashed = false;
  const readiness = () => {
    if (crashed) return { ready: false, reason: 'an unexpected error; draining before a restart' };
    if (httpsDrain.draining) return { ready: false, reason: 'draining after SIGTERM' };
    if (redis.status !== 'ready')
      return {
        ready: false,
        reason: `Redis is ${redis.status}; serving only the certificates in memory${local ? ' and in the local store' : ''}`,
      };
    return { ready: true, reason: 'serving' };
  };
  exportReadiness(registry, readiness);
  const httpHandler = createHttpHandler({
    challenges: createStore(challengeRedis, config.prefix).challenges,
    httpsPort: config.publicHttpsPort,
    readiness,
    logger,
  });
  const http = createHttpServer(visitorTimeouts(config.connections), (req, res) => void httpHandler(req, res));
  limiter.guard(http);
  const httpDrain = drainable(http);

  // A cluster worker binds sockets of its own where Node can (the kernel balances; no hand-off).
  const reusePort = options.clusterWorker === true && listenModeFor() === 'reuse-port';
  await Promise.all([
    listen(https, config.httpsPort, config.bindAddress, reusePort),
    listen(http, config.httpPort, config.bindAddress, reusePort),
  ]);
  if (options.clusterWorker) process.send?.({ type: WORKER_LISTENING });
  logger.info(
    { httpsPort: config.httpsPort, httpPort: config.httpPort, http2: config.connections.http2, upstream: config.upstreamUrl.href },
    options.clusterWorker ? 'edge worker listening' : 'edge listening',
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= drainAndStop());
  const unguard = guardProcess({
    logger,
    onFatal: () => {
      crashed = true;
      void close().finally(() => process.exit(1));
    },
  });
  async function drainAndStop(): Promise<void> {
    logger.info({ timeoutMs: config.drainTimeoutMs }, 'draining: no new connections; in-flight requests may finish');
    const [httpsEnd] = await Promise.all([
      httpsDrain.drain(config.drainTimeoutMs),
      httpDrain.drain(config.drainTimeoutMs),
      metricsServer && closeServer(metricsServer),
    ]);
    logger.info({ how: httpsEnd === 'drained' ? 'every connection ended' : 'connections left at the timeout were closed' }, 'drained');
    tickets.stop();
    await proxy.close();
    await served.close();
    await unsubscribe();
    await events.close();
    await queue.close();
    redis.disconnect();
    bullRedis.disconnect();
    backgroundRedis.disconnect();
    challengeRedis.disconnect();
    local?.stop();
    await localStore?.close();
    unguard();
  }

  return { httpsPort: config.httpsPort, httpPort: config.httpPort, close };
}

/**
 * Node's timeouts for visitors' requests, made the edge's own (EDGE_HEADER_TIMEOUT, ...).
 * Node checks the header and request timeouts every connectionsCheckingInterval (30 s by
 * default, so a 15 s header timeout could take 45 s); once a second keeps them near their value.
 */
function visitorTimeouts(limits: ConnectionLimitsConfig) {
  return {
    headersTimeout: limits.headerTimeoutMs,
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.headerTimeoutMs + 1),
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, limits.headerTimeoutMs),
  };
}

function ecdsaFirst(ciphers: string): string {
  const list = ciphers.split(':');
  return [...list.filter((c) => c.includes('ECDSA')), ...list.filter((c) => !c.includes('ECDSA'))].join(':');
}

/** Whether every connection is ready within `ms` (Infinity: waits as long as it takes). */
async function readyWithin(connections: Parameters<typeof redisReady>[0][], ms: number): Promise<boolean> {
  const ready = Promise.all(connections.map(redisReady)).then(() => true);
  if (ms === Infinity) return ready;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([ready, late]);
  } finally {
    clearTimeout(timer);
  }
}

function listen(server: Server, port: number, host: string, reusePort: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, ...(reusePort ? { reusePort: true } : {}) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
