import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { UpstreamConfig } from '@certfleet/config';
import type { Logger } from '@certfleet/observability';
import { subscribeRouteChanged, type Store } from '@certfleet/store';
import type { EdgeMetrics } from './metrics.js';
import { createForwarder, type ForwardTarget } from './upstreams/forward.js';
import { upstreamRequestHeaders } from './upstreams/headers.js';
import { sendPage, sendPageOnSocket } from './upstreams/pages.js';
import { createUpstreamPools } from './upstreams/pools.js';
import { createHostResolver } from './upstreams/resolve-host.js';
import { createRouteCache } from './upstreams/route-cache.js';

export interface UpstreamProxyDeps {
  /** UPSTREAM_URL: where a name without a route goes. */
  upstreamUrl: URL;
  config: UpstreamConfig;
  /** Routes are read from here; their changes arrive by pub/sub. */
  store: Pick<Store, 'redis' | 'keys' | 'routes'>;
  /** The fallback certificate: a connection served with it gets no HSTS and no route. */
  fallbackCertPem: string;
  /**
   * Whether this process holds a certificate for the name (synchronous, no I/O). Asked for
   * resumed sessions, where the certificate of the original handshake cannot be read back.
   */
  hasCertificate: (name: string) => boolean;
  metrics: Pick<EdgeMetrics, 'proxyAnswers' | 'upstreamRetries'>;
  logger: Logger;
}

// A lost pub/sub message (at-most-once, e.g. during a reconnect) is corrected within this long.
const ROUTE_TTL_MS = 30_000;
const ROUTE_CACHE_MAX = 100_000;

/** The Host header's name, without port, lower case, without a trailing dot. */
function requestedName(req: IncomingMessage): string | undefined {
  const host = req.headers.host;
  if (!host) return undefined;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * The edge's proxy layer: checks that a request is for the name its TLS connection was made
 * for (421 otherwise), chooses the upstream (the name's route, else UPSTREAM_URL), forwards with
 * X-Forwarded-*, and adds HSTS for names served with a real certificate.
 *
 * A new connection without SNI only ever got the fallback certificate, which is valid for no
 * customer name, so its requests are answered 421 rather than proxied.
 */
export async function createUpstreamProxy(deps: UpstreamProxyDeps) {
  const { config, logger } = deps;
  const log = logger.child({ component: 'proxy' });
  const pools = createUpstreamPools(deps.upstreamUrl, {
    resolve: createHostResolver(config.dnsServers),
    resolveIntervalMs: config.resolveIntervalMs,
    maxIps: config.maxIps,
    failTimeoutMs: config.failTimeoutMs,
    logger: log,
  });
  await pools.get(deps.upstreamUrl).ready();
  const routes = createRouteCache({ fetch: (name) => deps.store.routes.get(name), ttlMs: ROUTE_TTL_MS, max: ROUTE_CACHE_MAX, logger: log });
  const unsubscribe = await subscribeRouteChanged(deps.store.redis, deps.store.keys, routes.invalidate, routes.clear);
  const forwarder = createForwarder({
    connectTimeoutMs: config.connectTimeoutMs,
    headerTimeoutMs: config.headerTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    maxSockets: config.maxSockets,
    logger: log,
    onAnswer: (answer) => deps.metrics.proxyAnswers.inc({ answer }),
    onRetry: (reason) => deps.metrics.upstreamRetries.inc({ reason }),
  });
  const fallbackFingerprint = new X509Certificate(deps.fallbackCertPem).fingerprint256;
  const realCertificate = new WeakMap<TLSSocket, { name: string; real: boolean }>();
  const hsts: Record<string, string> = config.hsts ? { 'strict-transport-security': config.hsts } : {};

  /**
   * Whether the connection was served a real certificate (not the fallback), asked once per
   * connection. A resumed session did no certificate exchange, and Node reports the server's
   * default (fallback) certificate for it: there, whether we hold a certificate for the name
   * stands in for what the original handshake served.
   */
  const isReal = (socket: TLSSocket, name: string): boolean => {
    // Keyed by name too: on a TLS 1.2 resumption (no SNI), each request's Host is its name.
    const known = realCertificate.get(socket);
    if (known?.name === name) return known.real;
    let real: boolean;
    if (socket.isSessionReused()) real = deps.hasCertificate(name);
    else {
      const fingerprint = (socket.getCertificate() as { fingerprint256?: string } | null)?.fingerprint256;
      real = fingerprint !== undefined && fingerprint !== fallbackFingerprint;
    }
    realCertificate.set(socket, { name, real });
    return real;
  };

  // Route URLs parsed once (they were validated when set); few distinct upstreams exist.
  const parsedUrls = new Map<string, URL>();
  const parsed = (text: string): URL => {
    let url = parsedUrls.get(text);
    if (!url) {
      url = new URL(text);
      if (parsedUrls.size >= 10_000) parsedUrls.clear();
      parsedUrls.set(text, url);
    }
    return url;
  };

  /** The connection's name, its target and extra headers; undefined when the request is misdirected. */
  const route = async (req: IncomingMessage) => {
    const socket = req.socket as TLSSocket;
    const sni = typeof socket.servername === 'string' ? socket.servername.toLowerCase().replace(/\.$/, '') : undefined;
    const host = requestedName(req) ?? sni;
    // A TLS 1.2 session resumed from a ticket keeps no SNI that Node can report: the session
    // came from a full handshake with the fleet, so its Host is taken as its name.
    const name = sni ?? (socket.isSessionReused() ? host : undefined);
    if (!name || host !== name) {
      log.debug({ sni: sni ?? null, host: host ?? null }, 'misdirected request: Host differs from SNI');
      return undefined;
    }
    const real = isReal(socket, name);
    // Routes are only consulted for names we hold a certificate for: a scanner's random names
    // never cost a Redis read.
    const override = real ? await routes.lookup(name) : null;
    const url = override ? parsed(override) : deps.upstreamUrl;
    const pool = pools.get(url);
    await pool.ready();
    const target: ForwardTarget = { url, pool };
    return { target, extra: real ? hsts : {} };
  };

  return {
    web(req: IncomingMessage, res: ServerResponse): void {
      route(req).then(
        (chosen) => {
          if (!chosen) {
            deps.metrics.proxyAnswers.inc({ answer: 'misdirected' });
            return sendPage(res, 'misdirected');
          }
          forwarder.web(req, res, chosen.target, upstreamRequestHeaders(req, false), chosen.extra);
        },
        () => {
          deps.metrics.proxyAnswers.inc({ answer: 'no-address' });
          sendPage(res, 'no-address');
        },
      );
    },
    ws(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      socket.on('error', () => undefined);
      route(req).then(
        (chosen) => {
          if (!chosen) {
            deps.metrics.proxyAnswers.inc({ answer: 'misdirected' });
            return sendPageOnSocket(socket, 'misdirected');
          }
          forwarder.ws(req, socket, head, chosen.target, upstreamRequestHeaders(req, true));
        },
        () => {
          deps.metrics.proxyAnswers.inc({ answer: 'no-address' });
          sendPageOnSocket(socket, 'no-address');
        },
      );
    },
    async close(): Promise<void> {
      pools.close();
      forwarder.close();
      await unsubscribe();
    },
  };
}
