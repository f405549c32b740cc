import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor, HostnameService } from '@certfleet/hostnames';
import { type Counter, errorMessage, type Logger } from '@certfleet/observability';
import { isSafeMethod } from '../access.js';
import type { LoginThrottle } from '../login-throttle.js';
import type { ApiCaller } from './auth.js';
import { openApiDocument } from './openapi.js';
import { PROBLEMS, problemOfFastifyError, problemOfServiceError, sendProblem } from './problem.js';
import type { ApiRateLimit } from './rate-limit.js';
import { hostnameRoutes } from './routes.js';

export interface ApiDeps {
  service: HostnameService;
  /** Reads the Authorization header (see auth.ts). */
  auth: (header: string | undefined) => ApiCaller;
  rateLimit: ApiRateLimit;
  /** The dashboard's wrong-token throttle, per client address: wrong API tokens count too. */
  throttle: LoginThrottle;
  logger: Logger;
  /** `certfleet_api_requests_total{route,status}`. */
  requests?: Counter<'route' | 'status'> | undefined;
}

/** The one path under /v1 anyone may read: the document holds no data. */
const OPEN_ROUTE = '/v1/openapi.json';

/**
 * The hostname API under /v1, in an encapsulated Fastify plugin with its own auth (bearer
 * API_TOKEN / API_READ_TOKEN), per-token rate limit, RFC 9457 errors and request counter. The
 * dashboard's guard lets /v1 through to it after its cross-origin check.
 *
 * Per request, in order: API not configured → 503; client blocked after wrong tokens → 429; no
 * token → 401; wrong token → 401 (counted against the client); read token on a change → 403;
 * token over its rate → 429 with Retry-After. Only then is a body read.
 */
export async function registerApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const document = openApiDocument();
  const actors = new WeakMap<FastifyRequest, Actor>();
  const actorOf = (request: FastifyRequest): Actor => {
    const actor = actors.get(request);
    if (!actor) throw new Error('no authenticated caller on an API route (the auth hook did not run)');
    return actor;
  };

  await app.register(
    async (api) => {
      api.addHook('onRequest', async (request, reply) => {
        if (request.routeOptions.url === OPEN_ROUTE) return;
        const caller = deps.auth(request.headers.authorization);
        if ('refused' in caller && caller.refused === 'unconfigured') {
          return sendProblem(
            request,
            reply,
            PROBLEMS.notConfigured,
            "the hostname API is off: set API_TOKEN (and API_READ_TOKEN for read-only clients) in the dashboard's environment and restart it",
          );
        }
        const blockedMs = deps.throttle.retryAfterMs(request.ip);
        if (blockedMs > 0) {
          const seconds = Math.ceil(blockedMs / 1000);
          reply.header('retry-after', String(seconds));
          return sendProblem(request, reply, PROBLEMS.rateLimited, `too many wrong tokens from ${request.ip}: try again in ${seconds} s`);
        }
        if ('refused' in caller) {
          if (caller.refused === 'wrong') deps.throttle.failed(request.ip);
          reply.header('www-authenticate', 'Bearer realm="certfleet api"');
          return sendProblem(
            request,
            reply,
            PROBLEMS.unauthorized,
            caller.refused === 'absent'
              ? 'send API_TOKEN (or API_READ_TOKEN to read) as Authorization: Bearer TOKEN'
              : 'the bearer token is not API_TOKEN nor API_READ_TOKEN: check the token you send',
          );
        }
        if (caller.access === 'read' && !isSafeMethod(request.method)) {
          return sendProblem(request, reply, PROBLEMS.forbidden, `API_READ_TOKEN may only read: ${request.method} needs API_TOKEN`);
        }
        const waitMs = deps.rateLimit.take(caller.tokenId);
        if (waitMs > 0) {
          const seconds = Math.ceil(waitMs / 1000);
          reply.header('retry-after', String(seconds));
          return sendProblem(
            request,
            reply,
            PROBLEMS.rateLimited,
            `token ${caller.tokenId} is over API_RATE_LIMIT: try again in ${seconds} s`,
          );
        }
        actors.set(request, { kind: 'api', id: caller.tokenId });
      });

      api.addHook('onResponse', async (request, reply) => {
        deps.requests?.inc({ route: `${request.method} ${request.routeOptions.url ?? 'unmatched'}`, status: String(reply.statusCode) });
      });

      api.setErrorHandler(async (error, request, reply) => {
        const problem = problemOfServiceError(request, error) ?? problemOfFastifyError(request, error as never);
        if (problem.status >= 500) deps.logger.error({ err: errorMessage(error), url: request.url }, 'API request failed');
        return reply.code(problem.status).type('application/problem+json').send(problem);
      });

      api.setNotFoundHandler(async (request, reply) =>
        sendProblem(request, reply, PROBLEMS.notFound, `no API route ${request.method} ${request.url.split('?')[0]}: see /v1/openapi.json`),
      );

      api.get('/openapi.json', async () => document);
      hostnameRoutes(api, deps.service, actorOf);
    },
    { prefix: '/v1' },
  );
}
