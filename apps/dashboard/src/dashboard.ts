import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import type { DashboardConfig } from '@certfleet/config';
import { createHostnameService } from '@certfleet/hostnames';
import { createRegistry, errorMessage, type Logger } from '@certfleet/observability';
import { createIssueQueue, createWebhookQueue } from '@certfleet/queue';
import { connectTo, createStore, warnAboutRedisSettings } from '@certfleet/store';
import { openWebhooks } from '@certfleet/webhooks';
import { createTokenCheck } from './access.js';
import { registerApi } from './api/api.js';
import { createApiAuth } from './api/auth.js';
import { dnsObserverOf } from './api/dns-observer.js';
import { apiRequestCounter } from './api/metrics.js';
import { createApiRateLimit } from './api/rate-limit.js';
import { ADMIN_BOARD_PATH, createRequestGuard } from './guard.js';
import { createLoginThrottle } from './login-throttle.js';
import { serveDashboardMetrics } from './metrics.js';
import { registerInventoryPage } from './page/routes.js';

/** Wrong tokens one client address may send per minute before it is refused for the rest of it. */
const MAX_FAILED_LOGINS = 10;
const FAILED_LOGIN_WINDOW_MS = 60_000;
/** Client addresses whose failures are remembered at once (about 100 bytes each). */
const MAX_THROTTLED_CLIENTS = 10_000;

/**
 * The dashboard: a read-only bull-board at /queues and the certificate inventory at
 * /api/certificates for DASHBOARD_TOKEN (as a bearer token, or as the password of HTTP basic
 * auth so a browser can log in); a bull-board that may change queues at /admin/queues for
 * DASHBOARD_ADMIN_TOKEN only, when it is set; an open /healthz. Every request first passes
 * {@link createRequestGuard}.
 */
export async function startDashboard(config: DashboardConfig, logger: Logger) {
  const redis = connectTo(config.redis, { forBullmq: true, connectionName: 'certfleet-dashboard' });
  redis.on('error', (error) => logger.warn({ err: errorMessage(error) }, 'redis connection error'));
  void warnAboutRedisSettings(redis, logger);
  const store = createStore(redis, config.prefix);
  const queue = createIssueQueue({ connection: redis, prefix: store.queuePrefix });
  // Webhook deliveries that failed (given up after 24 h of retries) are looked at and retried here.
  const webhookQueue = createWebhookQueue({ connection: redis, prefix: store.queuePrefix });
  // The dashboard's own metrics (the API's requests) and the fleet's, on DASHBOARD_METRICS_PORT (metrics.ts).
  const registry = createRegistry('dashboard');

  // A hostname in an API path may be 253 characters (Fastify's default stops at 100); longer ones get a 400 that says why.
  const app = Fastify({ logger: false, routerOptions: { maxParamLength: 1024 } });
  const throttle = createLoginThrottle({
    maxFailures: MAX_FAILED_LOGINS,
    windowMs: FAILED_LOGIN_WINDOW_MS,
    maxClients: MAX_THROTTLED_CLIENTS,
  });
  app.addHook(
    'onRequest',
    createRequestGuard({ checkToken: createTokenCheck({ viewer: config.token, admin: config.adminToken }), throttle, logger }),
  );

  // bull-board's read-only mode is per queue adapter, so each kind of access has its own board.
  await mountBoard(app, [queue, webhookQueue], '/queues', { readOnly: true });
  if (config.adminToken) await mountBoard(app, [queue, webhookQueue], ADMIN_BOARD_PATH, { readOnly: false });

  // hostname.created / hostname.deleted from the API; the issuer role delivers them.
  const webhooks = await openWebhooks({ connection: redis, store, config: config.webhooks, logger });
  // One service for the API and the inventory page: the page shows the objects /v1 serves.
  const hostnames = createHostnameService({
    store,
    queue,
    logger,
    dns: dnsObserverOf(config.policy),
    forbiddenSuffixes: config.policy.forbiddenSuffixes,
    ...(webhooks ? { events: webhooks.events } : {}),
  });
  await registerApi(app, {
    service: hostnames,
    auth: createApiAuth(config.api),
    rateLimit: createApiRateLimit(config.api.rateLimit),
    throttle,
    logger,
    requests: apiRequestCounter(registry),
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get<{ Querystring: { offset?: string; limit?: string } }>('/api/certificates', async (request) => {
    const offset = Math.max(0, Number(request.query.offset ?? 0) || 0);
    const limit = Math.min(1000, Math.max(1, Number(request.query.limit ?? 100) || 100));
    const [total, certificates] = await Promise.all([store.certificates.count(), store.certificates.list(offset, limit)]);
    return { total, offset, certificates };
  });
  // The inventory page (bull-board stays at /queues).
  registerInventoryPage(app, { service: hostnames, counts: () => store.hostnames.counts() });

  await app.listen({ port: config.port, host: config.bindAddress });
  logger.info({ port: config.port, bindAddress: config.bindAddress, admin: config.adminToken !== undefined }, 'dashboard listening');
  const metricsServer = await serveDashboardMetrics(config, { registry, redis, queue });
  return {
    async close() {
      await new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined)));
      await app.close();
      await queue.close();
      await webhookQueue.close();
      await webhooks?.close();
      redis.disconnect();
    },
  };
}

/** A bull-board for `queues` at `prefix`; with `readOnly`, its queues and jobs can be looked at, not changed. */
async function mountBoard(app: FastifyInstance, queues: Queue[], prefix: string, options: { readOnly: boolean }): Promise<void> {
  const board = new FastifyAdapter();
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: options.readOnly })),
    serverAdapter: board,
  });
  board.setBasePath(prefix);
  await app.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply, payload) => withoutExternalFonts(reply.getHeader('content-type'), payload));
    await scope.register(board.registerPlugin(), { prefix });
  });
}

/**
 * bull-board's page loads IBM Plex from fonts.googleapis.com: that fails offline and tells
 * Google the operator's address at every visit (issue 13). The link is dropped from the HTML;
 * its stylesheet falls back to the browser's own sans-serif and monospace fonts.
 */
const EXTERNAL_FONT_LINK = /<link[^>]*href="https:\/\/fonts\.(?:googleapis|gstatic)\.com\/[^>]*>/g;

function withoutExternalFonts(contentType: unknown, payload: unknown): unknown {
  if (typeof payload !== 'string' || !String(contentType ?? '').startsWith('text/html')) return payload;
  return payload.replace(EXTERNAL_FONT_LINK, '');
}
