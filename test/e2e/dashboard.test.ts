import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnrecoverableError, Worker, type Queue } from 'bullmq';
import { ISSUE_JOB } from '@certfleet/queue';
import { newPrefix, startRole } from '../support/certfleet.js';
import { freePort, type Proc } from '../support/processes.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { httpCall, type HttpAnswer as Answer } from '../support/tls-client.js';
import { issueQueue, queueConnection } from '../support/queue.js';

const TOKEN = 'a-dashboard-token-for-tests';
const ADMIN_TOKEN = 'an-admin-token-for-the-dashboard-tests';

describe('dashboard', () => {
  let redis: RedisServer;
  let dashboard: Proc;
  let queue: Queue;
  let port: number;
  let base: string;

  /**
   * One request with full control of what fetch will not let a test set: the source address (to
   * be another client of the login throttle) and the Origin header.
   */
  const call = (method: string, path: string, options: { token?: string; origin?: string; from?: string } = {}): Promise<Answer> => {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.origin) headers.origin = options.origin;
    return httpCall(port, { method, path, headers, ...(options.from ? { localAddress: options.from } : {}) });
  };

  const jobState = async (id: string) => (await queue.getJob(id))?.getState() ?? 'gone';

  beforeAll(async () => {
    redis = await startRedis();
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const prefix = newPrefix();
    queue = issueQueue(redis.port, prefix);
    // A failed job (to retry) and waiting ones (to clean): the worker fails the first and stops.
    const worker = new Worker(
      queue.name,
      async () => {
        throw new UnrecoverableError('failed on purpose');
      },
      queueConnection(redis.port, prefix, { maxRetriesPerRequest: null }),
    );
    const failed = new Promise((resolve) => worker.once('failed', resolve));
    await queue.add(ISSUE_JOB, { name: 'failed.example.com', reason: 'provision', requestedAt: Date.now() }, { jobId: 'failed-job' });
    await failed;
    await worker.close();
    for (const id of ['waiting-1', 'waiting-2']) {
      await queue.add(ISSUE_JOB, { name: `${id}.example.com`, reason: 'provision', requestedAt: Date.now() }, { jobId: id });
    }
    dashboard = await startRole('dashboard', {
      REDIS_URL: redis.url,
      CERTFLEET_PREFIX: prefix,
      DASHBOARD_PORT: String(port),
      DASHBOARD_BIND: '127.0.0.1',
      DASHBOARD_TOKEN: TOKEN,
      DASHBOARD_ADMIN_TOKEN: ADMIN_TOKEN,
    });
  });
  afterAll(async () => {
    await dashboard?.stop();
    await queue?.close();
    await redis?.stop();
  });

  it('answers /healthz without a token', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('refuses the queues and the inventory without the token, and asks a browser for it', async () => {
    for (const path of ['/queues', '/api/certificates', '/queues/api/queues', '/admin/queues']) {
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
    const body = (await api.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(body.queues.map((q) => q.name)).toContain('issue');
    expect(body.queues.find((q) => q.name === 'issue')?.readOnlyMode).toBe(true);
  });

  it('lists the certificate inventory', async () => {
    const response = await fetch(`${base}/api/certificates`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ total: 0, offset: 0, certificates: [] });
  });

  it('lets the viewer token retry, clean or pause nothing, on either board', async () => {
    for (const path of [
      '/queues/api/queues/issue/failed-job/retry',
      '/admin/queues/api/queues/issue/failed-job/retry',
      '/queues/api/queues/issue/waiting-1/clean',
      '/admin/queues/api/queues/issue/waiting-1/clean',
      '/admin/queues/api/queues/issue/pause',
    ]) {
      const answer = await call('PUT', path, { token: TOKEN });
      expect(answer.status, path).toBe(403);
      expect(JSON.parse(answer.body).error).toMatch(/^forbidden: DASHBOARD_TOKEN may only view; .* need DASHBOARD_ADMIN_TOKEN/);
    }
    expect((await call('GET', '/admin/queues', { token: TOKEN })).status).toBe(403);
    expect(await jobState('failed-job')).toBe('failed');
    expect(await jobState('waiting-1')).toBe('waiting');
    expect(await queue.isPaused()).toBe(false);
  });

  it('lets the admin token retry and clean jobs on the admin board, and change nothing on the read-only one', async () => {
    expect((await call('GET', '/admin/queues', { token: ADMIN_TOKEN })).status).toBe(200);
    expect((await call('PUT', '/queues/api/queues/issue/failed-job/retry', { token: ADMIN_TOKEN })).status).toBe(405);
    expect(await jobState('failed-job')).toBe('failed');

    expect((await call('PUT', '/admin/queues/api/queues/issue/failed-job/retry', { token: ADMIN_TOKEN })).status).toBe(204);
    expect(await jobState('failed-job')).toBe('waiting');
    expect((await call('PUT', '/admin/queues/api/queues/issue/waiting-1/clean', { token: ADMIN_TOKEN })).status).toBe(204);
    expect(await jobState('waiting-1')).toBe('gone');
  });

  it('refuses a state-changing request sent by a page of another site, even with the admin token', async () => {
    const answer = await call('POST', '/admin/queues/api/queues/issue/add', { token: ADMIN_TOKEN, origin: 'https://evil.example' });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({
      error: `forbidden: a POST sent by a page of another site (Origin https://evil.example, Host 127.0.0.1:${port}); use the dashboard from its own address`,
    });
    const cleanFromElsewhere = await call('PUT', '/admin/queues/api/queues/issue/waiting-2/clean', {
      token: ADMIN_TOKEN,
      origin: `http://127.0.0.1:${port + 1}`,
    });
    expect(cleanFromElsewhere.status).toBe(403);
    expect(await jobState('waiting-2')).toBe('waiting');
    // The dashboard's own pages send their own origin.
    expect((await call('PUT', '/admin/queues/api/queues/issue/waiting-2/clean', { token: ADMIN_TOKEN, origin: base })).status).toBe(204);
    expect(await jobState('waiting-2')).toBe('gone');
  });

  it('forbids framing and type sniffing on every response', async () => {
    const answers = [
      await call('GET', '/healthz'),
      await call('GET', '/queues'),
      await call('GET', '/queues', { token: TOKEN }),
      await call('GET', '/api/certificates', { token: TOKEN }),
      await call('GET', '/admin/queues', { token: TOKEN }),
      await call('GET', '/no-such-page', { token: TOKEN }),
    ];
    for (const answer of answers) {
      expect(answer.headers['content-security-policy']).toBe("frame-ancestors 'none'");
      expect(answer.headers['x-frame-options']).toBe('DENY');
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('answers 429 to the 11th wrong token from one address within a minute, and never to another client', async () => {
    const attacker = '127.0.0.2';
    for (let i = 1; i <= 10; i += 1) {
      expect((await call('GET', '/api/certificates', { token: `wrong-token-number-${i}`, from: attacker })).status, `attempt ${i}`).toBe(
        401,
      );
    }
    const refused = await call('GET', '/api/certificates', { token: 'wrong-token-number-11', from: attacker });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(JSON.parse(refused.body).error).toMatch(/^too many wrong tokens from 127\.0\.0\.2: try again in \d+ s$/);
    // Until the window passes even the right token is refused there (a right guess must tell nothing)...
    expect((await call('GET', '/api/certificates', { token: TOKEN, from: attacker })).status).toBe(429);
    // ...while other clients log in as before.
    expect((await call('GET', '/api/certificates', { token: TOKEN })).status).toBe(200);
    expect((await call('GET', '/api/certificates', { token: ADMIN_TOKEN, from: '127.0.0.3' })).status).toBe(200);
  });

  it('stops cleanly on SIGTERM', async () => {
    const { code } = await dashboard.stop();
    expect(code).toBe(0);
  });
});
