import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Actor, BulkCreateBody, type HostnameService, InvalidInputError, ListQuery, parseInput } from '@certfleet/hostnames';

/** A single hostname's body is small (custom_metadata ≤ 4 KiB); a bulk call carries up to 10,000 of them. */
const BODY_LIMIT = 64 * 1024;
const BULK_BODY_LIMIT = 16 * 1024 * 1024;

function purgeOf(value: unknown): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new InvalidInputError('purge', `purge must be true or false, got ${JSON.stringify(value).slice(0, 40)}`);
}

/**
 * The /v1 hostname routes: thin translations of HTTP to the service (the same one the CLI uses).
 * `actorOf` gives the authenticated caller (set by the API's auth hook).
 */
export function hostnameRoutes(api: FastifyInstance, service: HostnameService, actorOf: (request: FastifyRequest) => Actor): void {
  type Named = { Params: { hostname: string } };

  api.post('/hostnames', { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    const { hostname, created } = await service.create(request.body as never, actorOf(request));
    return reply
      .code(created ? 201 : 200)
      .header('location', `/v1/hostnames/${hostname.hostname}`)
      .send(hostname);
  });

  api.get('/hostnames', async (request) => {
    const query = parseInput(ListQuery, request.query ?? {}, 'query');
    return service.list({ ...query, expiring_before: query.expiring_before ? Date.parse(query.expiring_before) : undefined });
  });

  // `::` is Fastify's escape for a literal colon: the path is /v1/hostnames:bulk (AIP-136 style).
  api.post('/hostnames::bulk', { bodyLimit: BULK_BODY_LIMIT }, async (request) => {
    const body = parseInput(BulkCreateBody, request.body, 'body');
    return { results: await service.bulkCreate(body.hostnames, actorOf(request)) };
  });

  api.get<Named>('/hostnames/:hostname', async (request) => service.get(request.params.hostname));

  api.patch<Named>('/hostnames/:hostname', { bodyLimit: BODY_LIMIT }, async (request) =>
    service.update(request.params.hostname, (request.body ?? {}) as never, actorOf(request)),
  );

  api.delete<Named & { Querystring: { purge?: unknown } }>('/hostnames/:hostname', async (request, reply: FastifyReply) => {
    const purge = purgeOf(request.query.purge);
    const object = await service.remove(request.params.hostname, { purge }, actorOf(request));
    return object ? object : reply.code(204).send();
  });
}
