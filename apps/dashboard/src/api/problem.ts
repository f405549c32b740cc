import type { FastifyReply, FastifyRequest } from 'fastify';
import { HostnameError, InvalidInputError } from '@certfleet/hostnames';

/** RFC 9457 problem details, as every /v1 error is sent. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  /** For a 400: which input was wrong (RFC 9457's example extension). */
  invalid_params?: { name: string; reason: string }[];
}

const PROBLEM_BASE = 'https://certfleet.dev/problems';

/** Problem types for what the API itself refuses (the service's own come with its errors). */
export const PROBLEMS = {
  unauthorized: { type: `${PROBLEM_BASE}/unauthorized`, title: 'Unauthorized', status: 401 },
  forbidden: { type: `${PROBLEM_BASE}/forbidden`, title: 'Forbidden', status: 403 },
  notConfigured: { type: `${PROBLEM_BASE}/api-not-configured`, title: 'API not configured', status: 503 },
  notFound: { type: `${PROBLEM_BASE}/not-found`, title: 'Not found', status: 404 },
  tooLarge: { type: `${PROBLEM_BASE}/body-too-large`, title: 'Request body too large', status: 413 },
  unsupportedMedia: { type: `${PROBLEM_BASE}/unsupported-media-type`, title: 'Unsupported media type', status: 415 },
  invalidBody: { type: `${PROBLEM_BASE}/invalid-input`, title: 'Invalid input', status: 400 },
  rateLimited: { type: `${PROBLEM_BASE}/rate-limited`, title: 'Too many requests', status: 429 },
  internal: { type: `${PROBLEM_BASE}/internal`, title: 'Internal error', status: 500 },
} as const;

type ProblemKind = (typeof PROBLEMS)[keyof typeof PROBLEMS];

/** The request's path, without its query (which may carry a cursor or a search). */
const instanceOf = (request: FastifyRequest) => request.url.split('?')[0] ?? request.url;

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  kind: ProblemKind,
  detail: string,
  extra: Partial<Problem> = {},
): FastifyReply {
  const body: Problem = { ...kind, detail, instance: instanceOf(request), ...extra };
  return reply.code(kind.status).type('application/problem+json').send(body);
}

/** The service's typed errors as problems; null for anything else. */
export function problemOfServiceError(request: FastifyRequest, error: unknown): Problem | null {
  if (!(error instanceof HostnameError)) return null;
  return {
    type: error.type,
    title: error.title,
    status: error.status,
    detail: error.message,
    instance: instanceOf(request),
    ...(error instanceof InvalidInputError ? { invalid_params: [{ name: error.field, reason: error.message }] } : {}),
  };
}

/** Fastify's own refusals (body too large, not JSON, wrong content type) as problems. */
export function problemOfFastifyError(request: FastifyRequest, error: { statusCode?: number; code?: string; message: string }): Problem {
  const base = { instance: instanceOf(request) };
  if (error.statusCode === 413) {
    return { ...PROBLEMS.tooLarge, ...base, detail: 'the request body is larger than this endpoint accepts: send fewer items per call' };
  }
  if (error.statusCode === 415) {
    return { ...PROBLEMS.unsupportedMedia, ...base, detail: 'send the body as JSON, with Content-Type: application/json' };
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return {
      ...PROBLEMS.invalidBody,
      status: error.statusCode,
      ...base,
      detail: `the request could not be read (${error.code ?? 'bad request'}): ${error.message}; send a JSON body that matches /v1/openapi.json`,
    };
  }
  return { ...PROBLEMS.internal, ...base, detail: 'the API failed to answer; the error is in the dashboard log' };
}
