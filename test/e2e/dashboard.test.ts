import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPrefix, startRole } from '../support/certfleet.js';
import { freePort, type Proc } from '../support/processes.js';
import { startRedis, type RedisServer } from '../support/redis.js';

const TOKEN = 'a-dashboard-token-for-tests';

describe('dashboard', () => {
  let redis: RedisServer;
  let dashboard: Proc;
  let base: string;

  beforeAll(async () => {
    redis = await startRedis();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    dashboard = await startRole('dashboard', {
      REDIS_URL: redis.url,
      CERTFLEET_PREFIX: newPrefix(),
      DASHBOARD_PORT: String(port),
      DASHBOARD_BIND_ADDRESS: '127.0.0.1',
      DASHBOARD_TOKEN: TOKEN,
    });
  });
  afterAll(async () => {
    await dashboard?.stop();
    await redis?.stop();
  });

  it('answers /healthz without a token', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('refuses the queues and the inventory without the token, and asks a browser for it', async () => {
    for (const path of ['/queues', '/api/certificates', '/queues/api/queues']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
    expect((await fetch(`${base}/queues`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
  });

  it('shows bull-board with the issue queue to a bearer token or basic auth', async () => {
    const page = await fetch(`${base}/queues`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const basic = `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`;
    const api = await fetch(`${base}/queues/api/queues?activeQueue=issue&page=1&jobsPerPage=10`, { headers: { authorization: basic } });
    expect(api.status).toBe(200);
    const body = (await api.json()) as { queues: { name: string }[] };
    expect(body.queues.map((q) => q.name)).toContain('issue');
  });

  it('lists the certificate inventory', async () => {
    const response = await fetch(`${base}/api/certificates`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ total: 0, offset: 0, certificates: [] });
  });

  it('stops cleanly on SIGTERM', async () => {
    const { code } = await dashboard.stop();
    expect(code).toBe(0);
  });
});
