import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { HostPort, UpstreamConfig } from '@certfleet/config';
import { errorMessage, type Logger } from '@certfleet/observability';
import type { Store } from '@certfleet/store';
import type { EdgeMetrics } from './metrics.js';
import { createForwarder, type ForwardTarget } from './upstreams/forward.js';
import { upstreamRequestHeaders } from './upstreams/headers.js';
import { sendPage, sendPageOnSocket, type EdgeAnswer } from './upstreams/pages.js';
import { framingProblem, originFormTarget, upgradeAllowed } from './upstreams/request-checks.js';
import { createUpstreamPools } from './upstreams/pools.js';
import { createHostResolver } from './upstreams/resolve-host.js';
import { createRouteAddressPolicy } from './upstreams/route-addresses.js';
import { createRouteCache } from './upstreams/route-cache.js';
import { servedRealCertificate } from './served-certificate.js';
import {
  connectionOf,
  isHttp2,
  protocolOf,
  requestedName,
  responseGone,
  type VisitorRequest,
  type VisitorResponse,
} from './upstreams/visitor.js';

export interface UpstreamProxyDeps {
  /** UPSTREAM_URL: where a name without a route goes. */
  upstreamUrl: URL;
  config: UpstreamConfig;
  /** Routes are read from here; their changes arrive by pub/sub. */
  store: Pick<Store, 'routes' | 'subscribeRouteChanged'>;
  /**
   * Whether this process holds a certificate for the name (synchronous, no I/O). Asked for
   * resumed sessions, where the certificate of the original handshake cannot be read back.
   */
  hasCertificate: (name: string) => boolean;
  /** Whether the store holds a certificate for the name: asked for a resumed session whose name is not in memory. */
  hasStoredCertificate: (name: string) => Promise<boolean>;
  /** EDGE_PUBLIC_HTTPS_PORT: what X-Forwarded-Port says. */
  publicHttpsPort: number;
  /** REDIS_URL: routes may not reach Redis's addresses (unless allowed), nor ever its port there. */
  redisEndpoints: readonly HostPort[];
  metrics: Pick<EdgeMetrics, 'proxyAnswers' | 'upstreamRetries' | 'droppedResponseHeaders' | 'requests'>;
  logger: Logger;
}

// A lost pub/sub message (at-most-once, e.g. during a reconnect) is corrected within this long.
const ROUTE_TTL_MS = 30_000;
const ROUTE_CACHE_MAX = 100_000;

/**
 * The edge's proxy layer: refuses what it cannot forward safely (ambiguous framing, a target
 * that is not origin form or for another name, an upgrade other than websocket: 400; a Host
 * other than the connection's name, or a connection served the fallback certificate: 421),
 * chooses the upstream (the name's route, else UPSTREAM_URL), forwards with X-Forwarded-*,
 * and adds HSTS.
 *
 * A new connection without SNI only ever got the fallback certificate, which is valid for no
 * customer name, so its requests are answered 421 rather than proxied.
 *
 * HTTP/1.1 and h2 requests go through the same checks, per request (per stream for h2): see
 * upstreams/visitor.ts for where the two differ.
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
    // Routes' addresses are filtered on every resolution (UPSTREAM_URL's are the operator's own).
    addressPolicy: await createRouteAddressPolicy({
      allowedNetworks: config.allowedNetworks,
      redisEndpoints: deps.redisEndpoints,
      logger: log,
    }),
  });
  await pools.get(deps.upstreamUrl).ready();
  const routes = createRouteCache({ fetch: (name) => deps.store.routes.get(name), ttlMs: ROUTE_TTL_MS, max: ROUTE_CACHE_MAX, logger: log });
  const unsubscribe = await deps.store.subscribeRouteChanged(routes.invalidate, routes.clear);
  const forwarder = createForwarder({
    connectTimeoutMs: config.connectTimeoutMs,
    headerTimeoutMs: config.headerTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    maxSockets: config.maxSockets,
    queueTimeoutMs: config.queueTimeoutMs,
    logger: log,
    onAnswer: (answer) => deps.metrics.proxyAnswers.inc({ answer }),
    onRetry: (reason) => deps.metrics.upstreamRetries.inc({ reason }),
    onDroppedHeader: () => deps.metrics.droppedResponseHeaders.inc(),
  });
  const realCertificate = new WeakMap<TLSSocket, { name: string; real: boolean }>();
  // One child per protocol, bound once: the request path does no label lookup.
  const counted = { 'http/1.1': deps.metrics.requests.labels('http/1.1'), h2: deps.metrics.requests.labels('h2') };
  // Only requests over a real certificate reach an upstream, so HSTS applies to every one of them.
  const hsts: Record<string, string> = config.hsts ? { 'strict-transport-security': config.hsts } : {};

  /**
   * Whether the connection was served a real certificate (not the fallback), asked once per
   * connection. A resumed session did no certificate exchange, and Node reports the server's
   * default (fallback) certificate for it: there, whether the fleet holds a certificate for
   * the name stands in for what the original handshake served (memory first, then one read of
   * the store, once per connection).
   */
  const isReal = async (socket: TLSSocket, name: string): Promise<boolean> => {
    // A full handshake: the SNI callback marked the socket. Nothing to remember.
    if (!socket.isSessionReused()) return servedRealCertificate(socket);
    // Keyed by name too: on a TLS 1.2 resumption (no SNI), each request's Host is its name.
    const known = realCertificate.get(socket);
    if (known?.name === name) return known.real;
    const real = deps.hasCertificate(name) || (await deps.hasStoredCertificate(name).catch(() => false));
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

  /**
   * Where a request goes, or why the edge answers it itself. Decided before anything goes
   * upstream: the framing (400), the Host against the connection's name (421), whether the
   * connection was served a real certificate (421: names the policy does not allow never reach
   * an upstream, not even over a connection that accepted the fallback), and the target (400).
   */
  const route = async (req: VisitorRequest, upgrade: boolean): Promise<Routed | Refused> => {
    const problem = framingProblem(req.rawHeaders);
    if (problem) {
      log.debug({ problem }, 'request refused: its framing is ambiguous');
      return { refused: 'bad-request' };
    }
    if (upgrade && !upgradeAllowed(req.headers.upgrade, req.headers)) return { refused: 'bad-request' };
    const socket = connectionOf(req);
    if (!socket) return { refused: 'internal' }; // an h2 stream already closed: nobody reads the answer
    const requested = requestedName(req.headers);
    if (requested.conflict) {
      log.debug(
        { authority: req.headers[':authority'], host: req.headers.host },
        'request refused: :authority and Host name different sites',
      );
      return { refused: 'bad-request' };
    }
    const sni = typeof socket.servername === 'string' ? socket.servername.toLowerCase().replace(/\.$/, '') : undefined;
    const host = requested.name ?? sni;
    // A TLS 1.2 session resumed from a ticket keeps no SNI that Node can report: the session
    // came from a full handshake with the fleet, so its Host is taken as its name.
    const name = sni ?? (socket.isSessionReused() ? host : undefined);
    if (!name || host !== name) {
      log.debug({ sni: sni ?? null, host: host ?? null }, 'misdirected request: Host differs from SNI');
      return { refused: 'misdirected' };
    }
    if (!(await isReal(socket, name))) return { refused: 'no-certificate' };
    const path = originFormTarget(req.method, req.url, name);
    if (path === undefined) return { refused: 'bad-request' };
    const override = await routes.lookup(name);
    const url = override ? parsed(override) : deps.upstreamUrl;
    const pool = pools.get(url);
    await pool.ready();
    return { target: { url, pool }, name, path };
  };

  const facts = (name: string) => ({ name, publicPort: deps.publicHttpsPort });

  return {
    web(req: VisitorRequest, res: VisitorResponse): void {
      const refuse = (answer: EdgeAnswer) => {
        deps.metrics.proxyAnswers.inc({ answer });
        sendPage(res, answer);
      };
      const handle = () => {
        if (responseGone(res)) return;
        counted[protocolOf(req)].inc();
        route(req, false)
          .then(
            (chosen) => {
              if (responseGone(res)) return;
              if ('refused' in chosen) return refuse(chosen.refused);
              forwarder.web(req, res, chosen.target, upstreamRequestHeaders(req, false, facts(chosen.name)), hsts, chosen.path);
            },
            () => refuse('no-address'),
          )
          // Nothing in one request's handling may end the process: that request alone fails.
          .catch((error: unknown) => {
            log.error({ err: errorMessage(error) }, 'request handling failed');
            refuse('internal');
          });
      };
      // Rapid reset (CVE-2023-44487): a client that opens an h2 stream and resets it in the same
      // packet gets its stream's 'request' before the reset is seen; one turn of the event loop
      // later the stream shows closed. Measured with node:http2 (HEADERS then RST_STREAM, 1,096
      // streams before nghttp2's GOAWAY): checked at once, all 1,096 looked open; after
      // setImmediate, 6 did. So such a stream costs no route lookup and reaches no upstream.
      if (isHttp2(req)) setImmediate(handle);
      else handle();
    },
    ws(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      socket.on('error', () => undefined);
      counted['http/1.1'].inc();
      const refuse = (answer: EdgeAnswer) => {
        deps.metrics.proxyAnswers.inc({ answer });
        sendPageOnSocket(socket, answer);
      };
      route(req, true)
        .then(
          (chosen) => {
            if ('refused' in chosen) return refuse(chosen.refused);
            forwarder.ws(req, socket, head, chosen.target, upstreamRequestHeaders(req, true, facts(chosen.name)), chosen.path);
          },
          () => refuse('no-address'),
        )
        .catch((error: unknown) => {
          log.error({ err: errorMessage(error) }, 'upgrade handling failed');
          refuse('internal');
        });
    },
    async close(): Promise<void> {
      pools.close();
      forwarder.close();
      await unsubscribe();
    },
  };
}

interface Routed {
  target: ForwardTarget;
  /** The connection's name. */
  name: string;
  /** The request target in origin form. */
  path: string;
}

interface Refused {
  refused: EdgeAnswer;
}
