import { timingSafeEqual, createHash } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { DashboardConfig } from '@certfleet/config';
import { errorMessage, type Logger } from '@certfleet/observability';
import { createIssueQueue } from '@certfleet/queue';
import { connectRedis, createStore } from '@certfleet/store';

/**
 * The dashboard: bull-board at /queues, the certificate inventory at /api/certificates, both
 * behind DASHBOARD_TOKEN (as a bearer token, or as the password of HTTP basic auth so a browser
 * can log in), and an open /healthz.
 */
export async function startDashboard(config: DashboardConfig, logger: Logger) {
  const redis = connectRedis(config.redisUrl, { forBullmq: true, connectionName: 'certfleet-dashboard' });
  redis.on('error', (error) => logger.warn({ err: errorMessage(error) }, 'redis connection error'));
  const store = createStore(redis, config.prefix);
  const queue = createIssueQueue({ connection: redis, prefix: store.keys.queuePrefix });

  const app = Fastify({ logger: false });
  const authorized = tokenCheck(config.token);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.url === '/healthz') return;
    if (!authorized(request.headers.authorization)) {
      await reply
        .code(401)
        .header('www-authenticate', 'Basic realm="certfleet dashboard", charset="UTF-8"')
        .send({ error: 'unauthorized: send DASHBOARD_TOKEN as a bearer token or as the basic-auth password' });
    }
  });

  const board = new FastifyAdapter();
  createBullBoard({ queues: [new BullMQAdapter(queue, { readOnlyMode: false })], serverAdapter: board });
  board.setBasePath('/queues');
  await app.register(board.registerPlugin(), { prefix: '/queues' });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get<{ Querystring: { offset?: string; limit?: string } }>('/api/certificates', async (request) => {
    const offset = Math.max(0, Number(request.query.offset ?? 0) || 0);
    const limit = Math.min(1000, Math.max(1, Number(request.query.limit ?? 100) || 100));
    const [total, certificates] = await Promise.all([store.certificates.count(), store.certificates.list(offset, limit)]);
    return { total, offset, certificates };
  });
  app.get('/', async (_request, reply) => reply.redirect('/queues'));

  await app.listen({ port: config.port, host: config.bindAddress });
  logger.info({ port: config.port }, 'dashboard listening');
  return {
    async close() {
      await app.close();
      await queue.close();
      redis.disconnect();
    },
  };
}

/** Compares in constant time; accepts `Bearer TOKEN` or `Basic base64(anyuser:TOKEN)`. */
function tokenCheck(token: string): (header: string | undefined) => boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  const expected = digest(token);
  return (header) => {
    if (!header) return false;
    const [scheme, value = ''] = header.split(' ', 2);
    let given: string | undefined;
    if (scheme?.toLowerCase() === 'bearer') given = value;
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      given = decoded.slice(decoded.indexOf(':') + 1);
    }
    return given !== undefined && timingSafeEqual(digest(given), expected);
  };
}
