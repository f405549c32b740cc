import { componentSchemas, MAX_BULK_ITEMS, MAX_PAGE_SIZE } from '@certfleet/hostnames';
import { PROBLEMS } from './problem.js';

type JsonObject = Record<string, unknown>;

/**
 * The OpenAPI 3.1 document of /v1, generated from the zod schemas that validate its requests
 * (@certfleet/hostnames registers each with an id): the document cannot drift from what the
 * API accepts. Built once, at start.
 */
export function openApiDocument(): JsonObject {
  const components: Record<string, JsonObject> = componentSchemas();
  components.Problem = {
    type: 'object',
    description: 'RFC 9457 problem details',
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      instance: { type: 'string' },
      invalid_params: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, reason: { type: 'string' } } } },
    },
    required: ['type', 'title', 'status', 'detail', 'instance'],
  };
  const listProperties = (components.ListQuery?.properties ?? {}) as Record<string, JsonObject>;
  const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
  const problems = (...statuses: number[]) =>
    Object.fromEntries(
      statuses.map((status) => [
        String(status),
        {
          description: Object.values(PROBLEMS).find((p) => p.status === status)?.title ?? 'Problem',
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        },
      ]),
    );
  const hostnameParam = { name: 'hostname', in: 'path', required: true, schema: { type: 'string' } };
  const common = [401, 403, 429, 503];
  return {
    openapi: '3.1.0',
    info: {
      title: 'certfleet hostname API',
      version: '1',
      description:
        'Customer hostnames and their certificates. Bearer API_TOKEN (read-write) or API_READ_TOKEN (read-only). Errors are RFC 9457 problems.',
    },
    components: { schemas: components, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths: {
      '/v1/hostnames': {
        post: {
          summary: 'Create a hostname (idempotent on the same body; 409 on another)',
          requestBody: { required: true, content: json('CreateHostname') },
          responses: {
            '201': { description: 'Created', content: json('Hostname') },
            '200': { description: 'Already there with the same body', content: json('Hostname') },
            ...problems(400, 409, 413, 415, ...common),
          },
        },
        get: {
          summary: `List hostnames (cursor pages of at most ${MAX_PAGE_SIZE})`,
          parameters: Object.entries(listProperties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
          responses: { '200': { description: 'A page', content: json('HostnamePage') }, ...problems(400, ...common) },
        },
      },
      '/v1/hostnames:bulk': {
        post: {
          summary: `Create up to ${MAX_BULK_ITEMS} hostnames; each item answered on its own`,
          requestBody: { required: true, content: json('BulkCreate') },
          responses: {
            '200': {
              description: 'Per-item results, in the order sent',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { results: { type: 'array', items: { $ref: '#/components/schemas/BulkItemResult' } } },
                  },
                },
              },
            },
            ...problems(400, 413, 415, ...common),
          },
        },
      },
      '/v1/hostnames/{hostname}': {
        get: {
          parameters: [hostnameParam],
          responses: { '200': { description: 'The hostname', content: json('Hostname') }, ...problems(400, 404, ...common) },
        },
        patch: {
          summary: 'Change custom_metadata or upstream; {"retry": true} clears a cool-down or failure and orders again',
          parameters: [hostnameParam],
          requestBody: { required: true, content: json('UpdateHostname') },
          responses: { '200': { description: 'The hostname', content: json('Hostname') }, ...problems(400, 404, 413, 415, ...common) },
        },
        delete: {
          summary: 'Take off the allowlist and retire (certificate served until it expires); ?purge=true removes it now',
          parameters: [hostnameParam, { name: 'purge', in: 'query', required: false, schema: { type: 'boolean' } }],
          responses: {
            '200': { description: 'Retired', content: json('Hostname') },
            '204': { description: 'Purged' },
            ...problems(400, 404, ...common),
          },
        },
      },
    },
  };
}
