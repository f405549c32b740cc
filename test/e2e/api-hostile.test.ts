import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, createStore } from '@certfleet/store';
import { newPrefix, startRole } from '../support/certfleet.js';
import { freePort, type Proc } from '../support/processes.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { httpCall } from '../support/tls-client.js';

const TOKEN = 'api-token-for-the-hostile-tests';
const READ_TOKEN = 'api-read-token-for-the-hostile-tests';
const DASHBOARD_TOKEN = 'dashboard-token-for-the-api-tests';

interface Answer {
  status: number;
  type: string;
  headers: Headers;
  body: Record<string, unknown>;
}

describe('the /v1 hostname API refuses hostile and malformed input with RFC 9457 problems', () => {
  let redis: RedisServer;
  let prefix: string;
  const dashboards: Proc[] = [];
  let port: number;

  const startDashboard = async (env: NodeJS.ProcessEnv) => {
    const dashboardPort = await freePort();
    dashboards.push(
      await startRole(
        'dashboard',
        {
          REDIS_URL: redis.url,
          CERTFLEET_PREFIX: prefix,
          DASHBOARD_PORT: String(dashboardPort),
          DASHBOARD_BIND: '127.0.0.1',
          DASHBOARD_TOKEN,
          ...env,
        },
        `dashboard-${dashboards.length}`,
      ),
    );
    return dashboardPort;
  };

  const call = async (
    method: string,
    path: string,
    options: { token?: string | null; body?: unknown; raw?: string; contentType?: string; to?: number; origin?: string } = {},
  ): Promise<Answer> => {
    const headers: Record<string, string> = {};
    const token = options.token === undefined ? TOKEN : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.origin) headers.origin = options.origin;
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const response = await fetch(`http://127.0.0.1:${options.to ?? port}${path}`, { method, headers, body });
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      headers: response.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };

  /** A problem document as RFC 9457 describes it, with the status it claims matching the response's. */
  const expectProblem = (answer: Answer, status: number, detail?: RegExp) => {
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    expect(answer.type).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String) });
    expect(answer.body.instance).toMatch(/^\/v1\//);
    if (detail) expect(answer.body.detail).toMatch(detail);
  };

  const invalidField = (answer: Answer) => (answer.body.invalid_params as { name: string }[] | undefined)?.[0]?.name;

  beforeAll(async () => {
    redis = await startRedis();
    prefix = newPrefix('api');
    port = await startDashboard({ API_TOKEN: TOKEN, API_READ_TOKEN: READ_TOKEN });
  });
  afterAll(async () => {
    await Promise.all(dashboards.map((d) => d.stop()));
    await redis?.stop();
  });

  it('answers 503 saying to set API_TOKEN when the API has no token configured', async () => {
    const off = await startDashboard({});
    expectProblem(await call('GET', '/v1/hostnames', { to: off }), 503, /set API_TOKEN/);
    expectProblem(await call('GET', '/v1/hostnames', { to: off, token: null }), 503, /set API_TOKEN/);
  });

  it('refuses no token, a wrong token and the dashboard token with 401, and the read token on every change with 403', async () => {
    const none = await call('GET', '/v1/hostnames', { token: null });
    expectProblem(none, 401, /Authorization: Bearer/);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expectProblem(await call('GET', '/v1/hostnames', { token: 'not-the-token-at-all' }), 401);
    expectProblem(await call('GET', '/v1/hostnames', { token: DASHBOARD_TOKEN }), 401);
    expect((await call('GET', '/v1/hostnames', { token: READ_TOKEN })).status).toBe(200);
    expectProblem(await call('POST', '/v1/hostnames', { token: READ_TOKEN, body: { hostname: 'ro.example.com' } }), 403, /API_TOKEN/);
    expectProblem(await call('POST', '/v1/hostnames:bulk', { token: READ_TOKEN, body: { hostnames: [] } }), 403);
    expectProblem(await call('PATCH', '/v1/hostnames/ro.example.com', { token: READ_TOKEN, body: { retry: true } }), 403);
    expectProblem(await call('DELETE', '/v1/hostnames/ro.example.com', { token: READ_TOKEN }), 403);
    expect((await call('GET', '/v1/hostnames/ro.example.com')).status).toBe(404);
  });

  it('refuses a change sent by a page of another site before looking at the token', async () => {
    const answer = await call('POST', '/v1/hostnames', { body: { hostname: 'csrf.example.com' }, origin: 'https://evil.example' });
    expect(answer.status).toBe(403);
    expect((await call('GET', '/v1/hostnames/csrf.example.com')).status).toBe(404);
  });

  it('blocks a client address that sent too many wrong tokens, whatever it sends next', async () => {
    const from = '127.0.0.7';
    for (let i = 0; i < 10; i += 1) {
      const answer = await httpCall(port, { path: '/v1/hostnames', headers: { authorization: `Bearer wrong-${i}` }, localAddress: from });
      expect(answer.status).toBe(401);
    }
    const blocked = await httpCall(port, { path: '/v1/hostnames', headers: { authorization: `Bearer ${TOKEN}` }, localAddress: from });
    expect(blocked.status).toBe(429);
    expect(blocked.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('limits each token to API_RATE_LIMIT with a 429 and Retry-After, without touching the other token', async () => {
    const limited = await startDashboard({ API_TOKEN: TOKEN, API_READ_TOKEN: READ_TOKEN, API_RATE_LIMIT: '5/1h' });
    for (let i = 0; i < 5; i += 1) expect((await call('GET', '/v1/hostnames', { to: limited })).status).toBe(200);
    const refused = await call('GET', '/v1/hostnames', { to: limited });
    expectProblem(refused, 429, /API_RATE_LIMIT/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await call('GET', '/v1/hostnames', { to: limited, token: READ_TOKEN })).status).toBe(200);
  });

  it('normalises upper case, a trailing dot and IDN to the one stored name, and finds it by any of its spellings', async () => {
    const created = await call('POST', '/v1/hostnames', { body: { hostname: 'Shop.EXAMPLE.com.' } });
    expect(created.status).toBe(201);
    expect(created.body.hostname).toBe('shop.example.com');
    expect(created.headers.get('location')).toBe('/v1/hostnames/shop.example.com');
    const idn = await call('POST', '/v1/hostnames', { body: { hostname: 'bücher.example' } });
    expect(idn.body.hostname).toBe('xn--bcher-kva.example');
    expect((await call('GET', `/v1/hostnames/${encodeURIComponent('BÜCHER.example.')}`)).body.hostname).toBe('xn--bcher-kva.example');
    expect((await call('GET', '/v1/hostnames/SHOP.example.com')).body.status).toBe('pending');
  });

  it('refuses names no CA may issue for, saying which field and why', async () => {
    for (const hostname of [
      'localhost',
      '127.0.0.1',
      '[::1]',
      '*.example.com',
      'a_b.example.com',
      'ex ample.com',
      `${'a'.repeat(64)}.example.com`,
      `${'a.'.repeat(130)}com`,
      'com',
      '',
      'co.uk',
      'a\u0000.example.com',
      42,
      null,
    ]) {
      const answer = await call('POST', '/v1/hostnames', { body: { hostname } });
      expectProblem(answer, 400);
      expect(invalidField(answer), String(hostname)).toBe('hostname');
    }
    const longPath = await call('GET', `/v1/hostnames/${'a'.repeat(900)}.com`);
    expectProblem(longPath, 400);
  });

  it('refuses bodies that are not JSON, are malformed, too large, or carry unknown or wrong fields', async () => {
    expectProblem(
      await call('POST', '/v1/hostnames', { raw: 'hostname=x.example.com', contentType: 'application/x-www-form-urlencoded' }),
      415,
      /JSON/,
    );
    expectProblem(await call('POST', '/v1/hostnames', { raw: '{"hostname": "x.example.com"', contentType: 'application/json' }), 400);
    expectProblem(await call('POST', '/v1/hostnames', { raw: '', contentType: 'application/json' }), 400);
    expectProblem(await call('POST', '/v1/hostnames', { raw: '"just a string"' }), 400);
    expectProblem(await call('POST', '/v1/hostnames', { raw: '[1,2,3]' }), 400);
    const big = await call('POST', '/v1/hostnames', {
      body: { hostname: 'big.example.com', custom_metadata: { blob: 'x'.repeat(100_000) } },
    });
    expectProblem(big, 413);
    const metadata = await call('POST', '/v1/hostnames', {
      body: { hostname: 'meta.example.com', custom_metadata: { blob: 'x'.repeat(5_000) } },
    });
    expectProblem(metadata, 400);
    expect(invalidField(metadata)).toBe('custom_metadata');
    const unknown = await call('POST', '/v1/hostnames', { body: { hostname: 'u.example.com', owner: 'me' } });
    expectProblem(unknown, 400);
    const upstream = await call('POST', '/v1/hostnames', { body: { hostname: 'u.example.com', upstream: 'http://user:secret@10.0.0.1' } });
    expectProblem(upstream, 400);
    expect(invalidField(upstream)).toBe('upstream');
    expect(JSON.stringify(upstream.body)).not.toContain('secret');
    const patch = await call('PATCH', '/v1/hostnames/shop.example.com', { body: { retry: 'yes' } });
    expectProblem(patch, 400);
    expect(invalidField(patch)).toBe('retry');
    expectProblem(await call('DELETE', '/v1/hostnames/shop.example.com?purge=maybe'), 400);
  });

  it('answers 409 for another body on an existing name and 200 for the same body again', async () => {
    const body = { hostname: 'same.example.com', custom_metadata: { customer: 17 }, upstream: 'http://10.1.2.3:8080' };
    expect((await call('POST', '/v1/hostnames', { body })).status).toBe(201);
    const again = await call('POST', '/v1/hostnames', { body: { ...body, hostname: 'SAME.example.com' } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ custom_metadata: { customer: 17 }, upstream: 'http://10.1.2.3:8080' });
    expectProblem(await call('POST', '/v1/hostnames', { body: { ...body, custom_metadata: { customer: 18 } } }), 409, /PATCH/);
  });

  it('refuses a bad limit, an unknown filter, a bad date, a bad q and a tampered cursor, naming the parameter', async () => {
    const cases: [string, string][] = [
      ['limit=abc', 'limit'],
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=1.5', 'limit'],
      ['status=bogus', 'status'],
      ['expiring_before=tomorrow', 'expiring_before'],
      ['q=a%20b', 'q'],
      ['q=%C3%BC', 'q'],
      ['sort=name', 'query'],
      ['cursor=%00%01', 'cursor'],
      ['cursor=bm90LWpzb24', 'cursor'],
      [`cursor=${Buffer.from(JSON.stringify({ k: 'name', after: 1 })).toString('base64url')}`, 'cursor'],
      [`cursor=${Buffer.from(JSON.stringify({ k: 'expiry', name: 'a.example.com', notAfter: 5 })).toString('base64url')}`, 'cursor'],
      [`cursor=${'A'.repeat(3000)}`, 'cursor'],
    ];
    for (const [query, field] of cases) {
      const answer = await call('GET', `/v1/hostnames?${query}`);
      expectProblem(answer, 400);
      expect(invalidField(answer), query).toBe(field);
    }
  });

  it('refuses a bulk call of 10,001 items, and answers a mixed one item by item', async () => {
    const tooMany = await call('POST', '/v1/hostnames:bulk', {
      body: { hostnames: Array.from({ length: 10_001 }, (_, i) => ({ hostname: `n${i}.example.com` })) },
    });
    expectProblem(tooMany, 400, /10000/);
    expect(invalidField(tooMany)).toBe('hostnames');
    const mixed = await call('POST', '/v1/hostnames:bulk', {
      body: { hostnames: [{ hostname: 'bulk-ok.example.com' }, { hostname: 'localhost' }, 'junk', { hostname: 'same.example.com' }] },
    });
    expect(mixed.status).toBe(200);
    expect((mixed.body.results as { result: string }[]).map((r) => r.result)).toEqual(['created', 'error', 'error', 'error']);
    expectProblem(await call('POST', '/v1/hostnames:bulk', { body: { hostnames: [] } }), 400);
    expectProblem(await call('POST', '/v1/hostnames:bulk', { body: [{ hostname: 'x.example.com' }] }), 400);
  });

  it('answers 404 problems for an unknown hostname and an unknown route', async () => {
    expectProblem(await call('GET', '/v1/hostnames/nobody.example.com'), 404, /not a registered hostname/);
    expectProblem(await call('PATCH', '/v1/hostnames/nobody.example.com', { body: { retry: true } }), 404);
    expectProblem(await call('DELETE', '/v1/hostnames/nobody.example.com'), 404);
    expectProblem(await call('GET', '/v1/nothing-here'), 404, /openapi\.json/);
  });

  it('records every change in the audit stream with the token id, never the token', async () => {
    await call('PATCH', '/v1/hostnames/shop.example.com', { body: { custom_metadata: { plan: 'gold' } } });
    const client = connectRedis(redis.url);
    try {
      const entries = await createStore(client, prefix).audit.recent(100);
      const id = createHash('sha256').update(TOKEN).digest('hex').slice(0, 8);
      expect(entries.find((e) => e.action === 'update' && e.hostname === 'shop.example.com')).toMatchObject({
        actorKind: 'api',
        actorId: id,
      });
      expect(entries.every((e) => e.actorId === id)).toBe(true);
      const raw = JSON.stringify(await client.xrange(`${prefix}:audit`, '-', '+'));
      expect(raw).not.toContain(TOKEN);
    } finally {
      client.disconnect();
    }
  });

  it('serves an OpenAPI 3.1 document generated from the request schemas, without a token', async () => {
    const answer = await call('GET', '/v1/openapi.json', { token: null });
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toBe('3.1.0');
    const schemas = (answer.body.components as { schemas: Record<string, { properties?: Record<string, unknown> }> }).schemas;
    expect(Object.keys(schemas.Hostname?.properties ?? {})).toEqual(
      expect.arrayContaining(['hostname', 'status', 'certificate', 'validation_errors', 'cooldown_until', 'custom_metadata']),
    );
    expect(Object.keys(schemas.CreateHostname?.properties ?? {})).toEqual(['hostname', 'custom_metadata', 'upstream', 'issue']);
    expect(Object.keys(answer.body.paths as object)).toEqual(['/v1/hostnames', '/v1/hostnames:bulk', '/v1/hostnames/{hostname}']);
  });
});
