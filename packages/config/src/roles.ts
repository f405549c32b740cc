import { ConfigError } from './errors.js';
import { parseEnv, variableNamesOf } from './env.js';
import { availableParallelism } from 'node:os';
import { formatDuration } from '@certfleet/budget';
import { resolve } from 'node:path';
import { bucket, duration, durationFormerlyMs, int, ipAddress, keyFile, oneOf, pattern, pemFile, port, secretText, url } from './fields.js';
import type { DataKey } from '@certfleet/sealing';
import type { BucketSpec } from '@certfleet/budget';
import { loadPolicyConfig, type PolicyConfig } from './policy-config.js';
import { loadCaConfigs, type CaConfig } from './ca-config.js';
import { loadUpstreamConfig, type UpstreamConfig } from './upstream-config.js';
import { loadConnectionLimitsConfig, type ConnectionLimitsConfig } from './connection-config.js';
import { redactUrl } from './redact.js';
import { certCacheBounds } from './cert-cache.js';
import { redisSpec, redisTargetOf, type RedisTarget } from './redis-config.js';

/**
 * Where metrics and the dashboard listen unless told otherwise: loopback. They are for the
 * operator, never for the public address customer traffic reaches; in a container, where a
 * scraper or a port mapping comes from outside, set 0.0.0.0 explicitly.
 */
const PRIVATE_BIND = '127.0.0.1';

/** Variables every role reads. */
const common = {
  ...redisSpec,
  CERTFLEET_PREFIX: pattern('a key prefix of 1-48 letters, digits, "_" or "-"', /^[A-Za-z0-9_-]{1,48}$/).default('certfleet'),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

export interface CommonConfig {
  /** Where Redis is (one server, Sentinel or Cluster), as whom, and over TLS or not. */
  redis: RedisTarget;
  /** Prefix of every Redis key and queue: two prefixes on one Redis never see each other. */
  prefix: string;
  logLevel: string;
  /** Settings that still work but should change (a deprecated variable name): logged at start-up. */
  warnings: string[];
}

function commonOf(env: ReturnType<typeof parseEnv<typeof common>>, warnings: string[] = []): CommonConfig {
  return { redis: redisTargetOf(env), prefix: env.CERTFLEET_PREFIX, logLevel: env.LOG_LEVEL, warnings };
}

export function loadCommonConfig(env: NodeJS.ProcessEnv): CommonConfig {
  return commonOf(parseEnv(common, env));
}

/** What roles that hold private keys read besides: the at-rest keys. Required, never defaulted. */
const atRest = {
  CERTFLEET_KEK_FILE: keyFile(),
};

/** The at-rest keys (CERTFLEET_KEK_FILE) that seal every private key and secret in Redis and on the edge's disk. */
export interface AtRestConfig {
  /** The keys of CERTFLEET_KEK_FILE, the first sealing. */
  dataKeys: DataKey[];
}

/** For commands that handle key material (`certfleet keys rotate`): the common settings and the key file. */
export function loadKeysConfig(env: NodeJS.ProcessEnv): CommonConfig & AtRestConfig {
  const e = parseEnv({ ...common, ...atRest }, env);
  return { ...commonOf(e), dataKeys: e.CERTFLEET_KEK_FILE.keys };
}

const edge = {
  ...common,
  ...atRest,
  EDGE_HTTPS_PORT: port().default('443'),
  EDGE_HTTP_PORT: port().default('80'),
  EDGE_PUBLIC_HTTPS_PORT: port().optional(),
  EDGE_BIND_ADDRESS: ipAddress().default('0.0.0.0'),
  UPSTREAM_URL: url(['http:', 'https:']),
  EDGE_ISSUE_WAIT: durationFormerlyMs('EDGE_ISSUE_WAIT_MS', 0, 60_000).default('2s'),
  // Unset, each is derived from the other (see cert-cache.ts); neither set: 64 MB.
  EDGE_CERT_CACHE_SIZE: int(1, 10_000_000, 'certificates').optional(),
  EDGE_CERT_CACHE_MB: int(1, 1_000_000, 'megabytes').optional(),
  EDGE_WORKERS: int(1, 256, 'processes').default(String(availableParallelism())),
  EDGE_TICKET_KEY_ROTATE_INTERVAL: duration(1_000, 7 * 86_400_000).default('12h'),
  EDGE_DRAIN_TIMEOUT: duration(0, 600_000).default('20s'),
  EDGE_FALLBACK_CERT_FILE: pemFile('CERTIFICATE').optional(),
  EDGE_FALLBACK_KEY_FILE: pemFile('PRIVATE KEY').optional(),
  EDGE_NEW_NAME_LIMIT_PER_IP: bucket().default('20/60s'),
  EDGE_NEW_NAME_LIMIT_FLEET: bucket().default('600/60s'),
  EDGE_NEW_NAME_NEGATIVE_TTL: duration(0, 60_000).default('5s'),
  EDGE_MAX_PENDING_ISSUES: int(1, 1_000_000, 'names').default('200'),
  EDGE_MAX_WAITING_HANDSHAKES: int(1, 1_000_000, 'handshakes').default('2000'),
  EDGE_METRICS_PORT: port().optional(),
  EDGE_METRICS_BIND: ipAddress().default(PRIVATE_BIND),
  EDGE_SERVED_RECORD_INTERVAL: duration(1_000, 86_400_000).default('1h'),
  EDGE_LOCAL_STORE_PATH: pattern('a directory path', /^[^\0]+$/).default('.certfleet/edge-store'),
  EDGE_LOCAL_STORE_MB: int(0, 1_000_000, 'megabytes').default('256'),
};

export interface EdgeConfig extends CommonConfig, AtRestConfig {
  httpsPort: number;
  httpPort: number;
  /** The HTTPS port visitors reach (behind a port mapping, 443): where plain HTTP is redirected. */
  publicHttpsPort: number;
  bindAddress: string;
  upstreamUrl: URL;
  /** Re-resolution, failed addresses, timeouts and HSTS for the proxy layer. */
  upstream: UpstreamConfig;
  /** Timeouts and caps on visitors' connections. */
  connections: ConnectionLimitsConfig;
  /** How long a handshake for a new, allowed name waits for its certificate before the fallback. */
  issueWaitMs: number;
  /** Certificates each edge process keeps in memory: at most this many (EDGE_CERT_CACHE_SIZE; unset, what the bytes hold)... */
  certCacheSize: number;
  /** ...and at most about this many bytes (EDGE_CERT_CACHE_MB; unset, what SIZE names need, else 64 MB). */
  certCacheBytes: number;
  /** Processes serving traffic (node:cluster); 1 = the edge runs in this process alone. */
  workers: number;
  /** How often the fleet's session-ticket keys rotate; a ticket stays usable for one to two intervals. */
  ticketKeyRotateMs: number;
  /** After SIGTERM, how long in-flight requests may take before their connections are closed. */
  drainTimeoutMs: number;
  /** An operator-provided fallback certificate; otherwise one self-signed certificate shared through Redis. */
  fallback: { certPem: string; keyPem: string } | undefined;
  policy: PolicyConfig;
  limits: {
    /**
     * New names (no certificate, no cached decision) one client (an IPv4 address, an IPv6 /64)
     * may make the fleet evaluate; each edge process also keeps it in memory, in front of Redis.
     */
    newNamesPerIp: BucketSpec;
    /** New names the whole fleet evaluates (and, in memory, the most one edge process does). */
    newNamesFleet: BucketSpec;
    /** How long a process refuses a name it just saw denied or over a shared limit, from memory (0: off). */
    newNameNegativeTtlMs: number;
    /** Names this edge may have waiting for issuance at once. */
    maxPendingIssues: number;
    /** Handshakes this edge may hold waiting for a certificate at once. */
    maxWaitingHandshakes: number;
  };
  /** Where `/metrics` is served, apart from customer traffic; unset = not served. */
  metricsPort: number | undefined;
  /** The address `/metrics` listens on: loopback unless set (never `bindAddress` by default). */
  metricsBindAddress: string;
  /** An edge records that it served a name at most once per this interval (renewal skips idle names). */
  servedRecordIntervalMs: number;
  /**
   * The certificates this edge served, on local disk, shared by its processes and kept across
   * restarts (served while Redis is away); undefined when EDGE_LOCAL_STORE_MB is 0.
   */
  localStore: { path: string; maxBytes: number } | undefined;
}

export function loadEdgeConfig(env: NodeJS.ProcessEnv): EdgeConfig {
  const warnings: string[] = [];
  const e = parseEnv(edge, env, warnings);
  checkUpstreamUrl(e.UPSTREAM_URL, env.UPSTREAM_URL ?? '');
  const cert = e.EDGE_FALLBACK_CERT_FILE;
  const key = e.EDGE_FALLBACK_KEY_FILE;
  if ((cert === undefined) !== (key === undefined)) {
    const missing = cert === undefined ? 'EDGE_FALLBACK_CERT_FILE' : 'EDGE_FALLBACK_KEY_FILE';
    throw new ConfigError(
      missing,
      `${missing} is required when ${missing === 'EDGE_FALLBACK_CERT_FILE' ? 'EDGE_FALLBACK_KEY_FILE' : 'EDGE_FALLBACK_CERT_FILE'} is set: give both files of the fallback certificate, or neither`,
    );
  }
  const connections = loadConnectionLimitsConfig(env, warnings);
  checkIssueWait(e.EDGE_ISSUE_WAIT, connections.handshakeTimeoutMs, warnings);
  const cache = certCacheBounds({ size: e.EDGE_CERT_CACHE_SIZE, megabytes: e.EDGE_CERT_CACHE_MB }, warnings);
  return {
    ...commonOf(e, warnings),
    dataKeys: e.CERTFLEET_KEK_FILE.keys,
    httpsPort: e.EDGE_HTTPS_PORT,
    httpPort: e.EDGE_HTTP_PORT,
    publicHttpsPort: e.EDGE_PUBLIC_HTTPS_PORT ?? e.EDGE_HTTPS_PORT,
    bindAddress: e.EDGE_BIND_ADDRESS,
    upstreamUrl: e.UPSTREAM_URL,
    upstream: loadUpstreamConfig(env, warnings),
    connections,
    issueWaitMs: e.EDGE_ISSUE_WAIT,
    certCacheSize: cache.size,
    certCacheBytes: cache.bytes,
    workers: e.EDGE_WORKERS,
    ticketKeyRotateMs: e.EDGE_TICKET_KEY_ROTATE_INTERVAL,
    drainTimeoutMs: e.EDGE_DRAIN_TIMEOUT,
    fallback: cert && key ? { certPem: cert.pem, keyPem: key.pem } : undefined,
    policy: loadPolicyConfig(env, warnings),
    limits: {
      newNamesPerIp: e.EDGE_NEW_NAME_LIMIT_PER_IP,
      newNamesFleet: e.EDGE_NEW_NAME_LIMIT_FLEET,
      newNameNegativeTtlMs: e.EDGE_NEW_NAME_NEGATIVE_TTL,
      maxPendingIssues: e.EDGE_MAX_PENDING_ISSUES,
      maxWaitingHandshakes: e.EDGE_MAX_WAITING_HANDSHAKES,
    },
    metricsPort: e.EDGE_METRICS_PORT,
    metricsBindAddress: e.EDGE_METRICS_BIND,
    servedRecordIntervalMs: e.EDGE_SERVED_RECORD_INTERVAL,
    localStore:
      e.EDGE_LOCAL_STORE_MB === 0 ? undefined : { path: resolve(e.EDGE_LOCAL_STORE_PATH), maxBytes: e.EDGE_LOCAL_STORE_MB * 1024 * 1024 },
  };
}

/**
 * Node's TLS server closes a connection whose handshake outlasts EDGE_HANDSHAKE_TIMEOUT, and the
 * wait for a new name's certificate happens inside the handshake (the SNI callback): a wait as
 * long as the timeout is cut short by it, and the visitor gets a reset instead of the fallback.
 */
function checkIssueWait(issueWaitMs: number, handshakeTimeoutMs: number, warnings: string[]): void {
  if (issueWaitMs < handshakeTimeoutMs) return;
  warnings.push(
    `EDGE_ISSUE_WAIT (${formatDuration(issueWaitMs)}) is not shorter than EDGE_HANDSHAKE_TIMEOUT (${formatDuration(handshakeTimeoutMs)}): a handshake waiting for a new certificate is closed at the timeout, before the wait ends; raise EDGE_HANDSHAKE_TIMEOUT above EDGE_ISSUE_WAIT or shorten the wait`,
  );
}

/**
 * UPSTREAM_URL names where traffic goes and nothing else: the edge sends no credentials, query or
 * fragment upstream, so one written there was silently dropped (and a password would be logged
 * with the URL). Refused, as `certfleet routes set` refuses them.
 */
function checkUpstreamUrl(url: URL, raw: string): void {
  if (url.username || url.password) {
    throw new ConfigError(
      'UPSTREAM_URL',
      `UPSTREAM_URL must not carry a user name or password, got "${redactUrl(raw)}": the edge never sends them to the upstream; remove them (let the upstream trust the edge by its network address instead)`,
    );
  }
  if (url.search || url.hash) {
    throw new ConfigError(
      'UPSTREAM_URL',
      `UPSTREAM_URL must not carry a query or a fragment, got "${redactUrl(raw)}": the edge does not send them; give scheme, host, port and an optional path prefix`,
    );
  }
}

const issuer = {
  ...common,
  ...atRest,
  ISSUER_CONCURRENCY: int(1, 256, 'jobs').default('8'),
  ISSUER_LOCK: durationFormerlyMs('ISSUER_LOCK_MS', 1_000, 600_000).default('30s'),
  ACME_CHALLENGE: oneOf(['http-01', 'tls-alpn-01']).default('http-01'),
  ACME_KEY_TYPES: oneOf(['ecdsa', 'rsa', 'ecdsa,rsa']).default('ecdsa'),
  ISSUER_RENEW_FRACTION: pattern('a fraction between 0 and 1, e.g. 0.33', /^0?\.\d+$/).default('0.3333'),
  RENEW_IDLE_AFTER: duration(1_000, 3_650 * 86_400_000).default('30d'),
  ISSUER_ARI_POLL_TICK: duration(100, 3_600_000).default('30s'),
  ISSUER_METRICS_PORT: port().optional(),
  /** Formerly ISSUER_METRICS_BIND_ADDRESS (whose default was 0.0.0.0). */
  ISSUER_METRICS_BIND: ipAddress().default(PRIVATE_BIND).formerly('ISSUER_METRICS_BIND_ADDRESS', ipAddress()),
};

export interface IssuerConfig extends CommonConfig, AtRestConfig {
  /** The CAs in the order they are tried. */
  cas: CaConfig[];
  concurrency: number;
  /** How long a job stays locked to an issuer without a heartbeat: after a crash, another issuer takes it over after this. */
  lockMs: number;
  challenge: 'http-01' | 'tls-alpn-01';
  /** Key types of the certificates ordered for each name; with both, clients that offer ECDSA get ECDSA. */
  keyTypes: ('ecdsa' | 'rsa')[];
  /** Renew when this fraction of the lifetime remains. */
  renewFraction: number;
  /** A name no edge has served for this long is not renewed (retired as idle). */
  idleAfterMs: number;
  /** How often the due slice of ARI polls (renewalInfo asked again, as its Retry-After said) is read. */
  ariPollTickMs: number;
  /** Where `/metrics` is served; unset = not served. */
  metricsPort: number | undefined;
  /** The address `/metrics` listens on: loopback unless set. */
  metricsBindAddress: string;
  policy: PolicyConfig;
}

export function loadIssuerConfig(env: NodeJS.ProcessEnv): IssuerConfig {
  const warnings: string[] = [];
  const e = parseEnv(issuer, env, warnings);
  return {
    ...commonOf(e, warnings),
    dataKeys: e.CERTFLEET_KEK_FILE.keys,
    cas: loadCaConfigs(env),
    concurrency: e.ISSUER_CONCURRENCY,
    lockMs: e.ISSUER_LOCK,
    challenge: e.ACME_CHALLENGE,
    keyTypes: e.ACME_KEY_TYPES.split(',') as ('ecdsa' | 'rsa')[],
    renewFraction: Number(e.ISSUER_RENEW_FRACTION),
    idleAfterMs: e.RENEW_IDLE_AFTER,
    ariPollTickMs: e.ISSUER_ARI_POLL_TICK,
    metricsPort: e.ISSUER_METRICS_PORT,
    metricsBindAddress: e.ISSUER_METRICS_BIND,
    policy: loadPolicyConfig(env, warnings),
  };
}

const renewer = {
  ...common,
  RENEW_TICK: durationFormerlyMs('RENEW_TICK_MS', 100, 86_400_000).default('1m'),
  RENEW_RETRY: durationFormerlyMs('RENEW_RETRY_MS', 1_000, 604_800_000).default('1h'),
  RENEW_BATCH: int(1, 100_000, 'certificates').default('1000'),
};

export interface RenewerConfig extends CommonConfig {
  /** How often the due slice of the renewal index is read. */
  tickMs: number;
  /** After a renewal is enqueued, when to look at the name again if it was not renewed. */
  retryMs: number;
  /** Most renewals enqueued by one tick; the rest wait for the next. */
  batch: number;
}

export function loadRenewerConfig(env: NodeJS.ProcessEnv): RenewerConfig {
  const warnings: string[] = [];
  const e = parseEnv(renewer, env, warnings);
  return { ...commonOf(e, warnings), tickMs: e.RENEW_TICK, retryMs: e.RENEW_RETRY, batch: e.RENEW_BATCH };
}

const dashboard = {
  ...common,
  DASHBOARD_PORT: port().default('3000'),
  /** Formerly DASHBOARD_BIND_ADDRESS (whose default was 0.0.0.0). */
  DASHBOARD_BIND: ipAddress().default(PRIVATE_BIND).formerly('DASHBOARD_BIND_ADDRESS', ipAddress()),
  DASHBOARD_TOKEN: secretText(16),
  DASHBOARD_ADMIN_TOKEN: secretText(16).optional(),
  /** The /v1 hostname API's read-write bearer token; unset = the API answers 503 saying to set it. */
  API_TOKEN: secretText(16).optional(),
  /** A bearer token that may only read the /v1 API (GET). */
  API_READ_TOKEN: secretText(16).optional(),
  /** Requests per API token (CAPACITY/PERIOD), counted in each dashboard process. */
  API_RATE_LIMIT: bucket().default('600/1m'),
};

export interface DashboardConfig extends CommonConfig {
  port: number;
  /** Loopback unless set: the dashboard is for operators, reached through a tunnel or a private network. */
  bindAddress: string;
  /** Views queues and the inventory; changes nothing. */
  token: string;
  /** Also retries, cleans, promotes, pauses...; unset = nobody can change the queues from the dashboard. */
  adminToken: string | undefined;
  /** The hostname API's tokens (read-write, read-only) and per-token request budget. */
  api: { token: string | undefined; readToken: string | undefined; rateLimit: BucketSpec };
  /** The domain policy, for what the API shows of it (the dns policy's target and what a name points at). */
  policy: PolicyConfig;
}

export function loadDashboardConfig(env: NodeJS.ProcessEnv): DashboardConfig {
  const warnings: string[] = [];
  const e = parseEnv(dashboard, env, warnings);
  if (e.API_TOKEN !== undefined && e.API_TOKEN === e.API_READ_TOKEN) {
    throw new ConfigError(
      'API_READ_TOKEN',
      'API_READ_TOKEN is the same as API_TOKEN: give the read-only client a token of its own (it could otherwise change hostnames), or leave it unset',
    );
  }
  if (e.DASHBOARD_ADMIN_TOKEN === e.DASHBOARD_TOKEN) {
    throw new ConfigError(
      'DASHBOARD_ADMIN_TOKEN',
      'DASHBOARD_ADMIN_TOKEN is the same as DASHBOARD_TOKEN: give the admin a token of its own (anyone who may view could otherwise change the queues), or leave it unset',
    );
  }
  return {
    ...commonOf(e, warnings),
    port: e.DASHBOARD_PORT,
    bindAddress: e.DASHBOARD_BIND,
    token: e.DASHBOARD_TOKEN,
    adminToken: e.DASHBOARD_ADMIN_TOKEN,
    api: { token: e.API_TOKEN, readToken: e.API_READ_TOKEN, rateLimit: e.API_RATE_LIMIT },
    policy: loadPolicyConfig(env, warnings),
  };
}

/** Every variable the roles themselves read (the CA, policy, upstream and connection settings apart). */
export const ROLE_VARIABLES: readonly string[] = [common, edge, issuer, renewer, dashboard].flatMap(variableNamesOf);
