import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@certfleet/observability';
import { isCrossOrigin, isSafeMethod, SECURITY_HEADERS, type Credentials } from './access.js';
import type { LoginThrottle } from './login-throttle.js';

/** Where the bull-board that may change queues lives; only the admin token reaches it. */
export const ADMIN_BOARD_PATH = '/admin/queues';

export interface GuardDeps {
  checkToken: (header: string | undefined) => Credentials;
  throttle: LoginThrottle;
  logger: Logger;
}

/**
 * The dashboard's one gate, run before every route (as a Fastify onRequest hook), in this order:
 * 1. security headers on every response, whatever follows;
 * 2. `/healthz` is open;
 *    (after step 3, `/v1/*` goes on to the hostname API's own token check: api/api.ts);
 * 3. a state-changing request from another site's page is refused (403), before any credential
 *    is looked at, so it neither logs in nor counts as a failed login;
 * 4. a client that sent too many wrong tokens is refused (429, Retry-After) whatever it sends now,
 *    so a guess that happens to be right tells it nothing;
 * 5. no token or a wrong one: 401 (a wrong one counts against the client);
 * 6. the viewer token may only look: no other method than GET/HEAD/OPTIONS, nothing under
 *    {@link ADMIN_BOARD_PATH} (403).
 * Decisions use the route Fastify matched, not the URL's text, so `/%61dmin/...` is still /admin.
 */
export function createRequestGuard(deps: GuardDeps) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    reply.headers(SECURITY_HEADERS);
    const route = request.routeOptions.url ?? '';
    if (route === '/healthz') return;

    const { origin, host } = request.headers;
    if (!isSafeMethod(request.method) && isCrossOrigin(origin, host)) {
      return reply.code(403).send({
        error: `forbidden: a ${request.method} sent by a page of another site (Origin ${origin}, Host ${host ?? 'none'}); use the dashboard from its own address`,
      });
    }

    // The /v1 hostname API checks its own bearer tokens (API_TOKEN, API_READ_TOKEN; see api/api.ts).
    // An unmatched /v1 path reaches only the API's own 404.
    if (route.startsWith('/v1/') || (route === '' && request.url.startsWith('/v1/'))) return;

    const waitMs = deps.throttle.retryAfterMs(request.ip);
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      return reply
        .code(429)
        .header('retry-after', String(seconds))
        .send({ error: `too many wrong tokens from ${request.ip}: try again in ${seconds} s` });
    }

    const credentials = deps.checkToken(request.headers.authorization);
    if (credentials === 'wrong' || credentials === 'absent') {
      if (credentials === 'wrong') {
        deps.throttle.failed(request.ip);
        const blockedMs = deps.throttle.retryAfterMs(request.ip);
        if (blockedMs > 0)
          deps.logger.warn({ client: request.ip, blockedMs }, 'too many wrong dashboard tokens; refusing this client for a while');
      }
      return reply
        .code(401)
        .header('www-authenticate', 'Basic realm="certfleet dashboard", charset="UTF-8"')
        .send({ error: 'unauthorized: send DASHBOARD_TOKEN (or DASHBOARD_ADMIN_TOKEN) as a bearer token or as the basic-auth password' });
    }

    if (credentials === 'viewer' && (!isSafeMethod(request.method) || route.startsWith(ADMIN_BOARD_PATH))) {
      return reply.code(403).send({
        error: `forbidden: DASHBOARD_TOKEN may only view; retrying, cleaning, promoting or removing jobs and pausing queues need DASHBOARD_ADMIN_TOKEN, at ${ADMIN_BOARD_PATH}`,
      });
    }
  };
}
