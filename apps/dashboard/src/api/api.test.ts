import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { bareHostnameObject, HostnameConflictError, type HostnameService } from '@certfleet/hostnames';
import { createLogger, Registry } from '@certfleet/observability';
import { createLoginThrottle } from '../login-throttle.js';
import { registerApi } from './api.js';
import { createApiAuth, tokenId } from './auth.js';
import { apiRequestCounter } from './metrics.js';
import { createApiRateLimit } from './rate-limit.js';

const TOKEN = 'unit-api-token-0123456789';

/** A service that answers from a script, recording the actor of each change. */
function scriptedService() {
  const actors: string[] = [];
  const service: Pick<HostnameService, 'create' | 'get'> = {
    async create(body, actor) {
      actors.push(`${actor.kind}:${actor.id}`);
      if ((body as { hostname?: string }).hostname === 'taken.example.com') throw new HostnameConflictError('taken.example.com');
      throw new Error('database on fire');
    },
    async get(hostname) {
      return bareHostnameObject(hostname, 'pending');
    },
  };
  return { service: service as HostnameService, actors };
}

async function setUp() {
  const app = Fastify({ logger: false });
  const registry = new Registry();
  const { service, actors } = scriptedService();
  await registerApi(app, {
    service,
    auth: createApiAuth({ token: TOKEN, readToken: undefined }),
    rateLimit: createApiRateLimit({ capacity: 100, refillIntervalMs: 1_000 }),
    throttle: createLoginThrottle({ maxFailures: 10, windowMs: 60_000, maxClients: 10 }),
    logger: createLogger({ role: 'dashboard', level: 'silent' }),
    requests: apiRequestCounter(registry),
  });
  const auth = { authorization: `Bearer ${TOKEN}` };
  return { app, registry, actors, auth };
}

describe('registerApi', () => {
  it('maps the service errors to problems: a conflict to 409, anything unexpected to a 500 that leaks nothing', async () => {
    const { app, auth, actors } = await setUp();
    const conflict = await app.inject({ method: 'POST', url: '/v1/hostnames', headers: auth, payload: { hostname: 'taken.example.com' } });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(conflict.json()).toMatchObject({ status: 409, type: new HostnameConflictError('x').type, instance: '/v1/hostnames' });
    const broken = await app.inject({ method: 'POST', url: '/v1/hostnames', headers: auth, payload: { hostname: 'x.example.com' } });
    expect(broken.statusCode).toBe(500);
    expect(broken.body).not.toContain('on fire');
    expect(actors).toEqual([`api:${tokenId(TOKEN)}`, `api:${tokenId(TOKEN)}`]);
  });

  it('counts requests by route pattern and status, never by hostname', async () => {
    const { app, auth, registry } = await setUp();
    await app.inject({ method: 'GET', url: '/v1/hostnames/a.example.com', headers: auth });
    await app.inject({ method: 'GET', url: '/v1/hostnames/b.example.com', headers: auth });
    await app.inject({ method: 'GET', url: '/v1/hostnames/b.example.com' });
    await app.inject({ method: 'GET', url: '/v1/nowhere', headers: auth });
    const text = await registry.metrics();
    expect(text).toContain('certfleet_api_requests_total{route="GET /v1/hostnames/:hostname",status="200"} 2');
    expect(text).toContain('certfleet_api_requests_total{route="GET /v1/hostnames/:hostname",status="401"} 1');
    expect(text).toMatch(/certfleet_api_requests_total\{route="GET unmatched",status="404"\} 1/);
    expect(text).not.toContain('a.example.com');
  });
});
