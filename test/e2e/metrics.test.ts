import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { Redis } from 'ioredis';
import { redisKeys } from '@certfleet/store';
import { startRole } from '../support/certfleet.js';
import { freePort, type Proc } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake } from '../support/tls-client.js';
import { until } from '../support/wait.js';

const DASHBOARD_TOKEN = 'metrics-dashboard-token-0123456789';
const API_TOKEN = 'metrics-api-token-0123456789abcdef';
/** 100 orders a month: no token comes back while the test runs, so one order shows as one token less. */
const ORDER_BUDGET = '100/30d';

/** Every sample of one metric family in Prometheus text: labels and value. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text.split('\n').flatMap((line) => {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) return [];
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    return [{ labels, value: Number(match[3]) }];
  });
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when there is none. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

async function scrape(port: number, path = '/metrics'): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, text: await response.text() };
}

describe('certificate, ACME, budget and queue metrics on the issuer and the dashboard', () => {
  let stack: Stack;
  let redis: Redis;
  let dashboard: Proc;
  let issuerMetricsPort: number;
  let dashboardMetricsPort: number;
  let dashboardPort: number;
  const name = 'metrics.example.com';

  /** Registers a hostname through the /v1 API, as a control panel would (it goes on the allowlist). */
  const register = async (hostname: string) => {
    const response = await fetch(`http://127.0.0.1:${dashboardPort}/v1/hostnames`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ hostname }),
    });
    expect(response.status, await response.text()).toBe(201);
  };

  beforeAll(async () => {
    [issuerMetricsPort, dashboardMetricsPort, dashboardPort] = await Promise.all([freePort(), freePort(), freePort()]);
    stack = await startStack({
      edges: 1,
      issuers: 1,
      env: {
        ISSUER_METRICS_PORT: String(issuerMetricsPort),
        ISSUER_METRICS_BIND: '127.0.0.1',
        ACME_BUDGET_ORDERS: ORDER_BUDGET,
        EDGE_ISSUE_WAIT: '20s',
        EDGE_HANDSHAKE_TIMEOUT: '30s',
      },
    });
    dashboard = await startRole(
      'dashboard',
      {
        ...stack.env,
        DASHBOARD_PORT: String(dashboardPort),
        DASHBOARD_BIND: '127.0.0.1',
        DASHBOARD_TOKEN,
        API_TOKEN,
        DASHBOARD_METRICS_PORT: String(dashboardMetricsPort),
        DASHBOARD_METRICS_BIND: '127.0.0.1',
      },
      `dashboard-${stack.prefix}`,
    );
    redis = new Redis(stack.redis.port, '127.0.0.1');
    // The last test stops Redis; this client reconnects by itself meanwhile.
    redis.on('error', () => {});
  });
  afterAll(async () => {
    redis?.disconnect();
    await dashboard?.stop();
    await stack?.stop();
  });

  it('shows a full budget and no certificate before any order', async () => {
    const { status, text } = await scrape(issuerMetricsPort);
    expect(status).toBe(200);
    expect(sample(text, 'certfleet_budget_tokens', { ca: 'default', bucket: 'orders' })).toBe(100);
    expect(sample(text, 'certfleet_budget_capacity', { ca: 'default', bucket: 'orders' })).toBe(100);
    expect(sample(text, 'certfleet_certificates', { state: 'active' })).toBe(0);
    expect(sample(text, 'certfleet_certificate_expiry_seconds_bucket', { le: '+Inf' })).toBe(0);
    expect(sample(text, 'certfleet_ca_paused', { ca: 'default' })).toBe(0);
    expect(samples(text, 'certfleet_certificate_expiration_timestamp_seconds')).toEqual([]);
  });

  it('moves the gauges, histograms and counters once a certificate is issued', async () => {
    await register(name);
    const served = await handshake(stack.edges[0]!.ports.httpsPort, name, stack.rootPem);
    expect(served.authorized, served.authorizationError).toBe(true);
    const notAfterMs = Number(await redis.zscore(redisKeys(stack.prefix).inventory, name));
    expect(notAfterMs).toBeGreaterThan(Date.now());

    // Readings are shared between scrapes for a few seconds: poll until this one shows the certificate.
    const text = await until('the issuer metrics to show the certificate', async () => {
      const { text } = await scrape(issuerMetricsPort);
      return sample(text, 'certfleet_certificates', { state: 'active' }) === 1 ? text : undefined;
    });
    expect(sample(text, 'certfleet_certificates', { state: 'expired' })).toBe(0);
    expect(sample(text, 'certfleet_certificates', { state: 'retired' })).toBe(0);
    // ACME requests by endpoint template: Pebble's /order-plz counted as new-order, answered 201 Created.
    expect(sample(text, 'certfleet_http_acme_client_request_count', { endpoint: '/acme/new-order', method: 'POST', status: '201' })).toBe(
      1,
    );
    expect(
      sample(text, 'certfleet_http_acme_client_request_duration_seconds_count', {
        endpoint: '/acme/new-order',
        method: 'POST',
        status: '201',
      }),
    ).toBe(1);
    // No URL with an order's id became a label.
    const endpoints = samples(text, 'certfleet_http_acme_client_request_count').map((s) => s.labels.endpoint ?? '');
    expect(endpoints.filter((e) => !/^(\/[A-Za-z-]+\d{0,3})*(\/:id)?$|^\/$/.test(e))).toEqual([]);
    expect(sample(text, 'certfleet_acme_orders_total', { ca: 'default', result: 'issued' })).toBe(1);
    expect(sample(text, 'certfleet_acme_order_duration_seconds_count', { ca: 'default', result: 'issued' })).toBe(1);
    // One order took one token from the CA's order budget.
    expect(sample(text, 'certfleet_budget_tokens', { ca: 'default', bucket: 'orders' })).toBe(99);
    // The expiry histogram: one certificate, not expired, expiring within Pebble's validity.
    expect(sample(text, 'certfleet_certificate_expiry_seconds_bucket', { le: '+Inf' })).toBe(1);
    expect(sample(text, 'certfleet_certificate_expiry_seconds_count')).toBe(1);
    expect(sample(text, 'certfleet_certificate_expiry_seconds_bucket', { le: '0' })).toBe(0);
    // The named hostname, with its notAfter, and no order in flight for it any more.
    expect(sample(text, 'certfleet_certificate_expiration_timestamp_seconds', { hostname: name })).toBe(Math.floor(notAfterMs / 1000));
    expect(sample(text, 'certfleet_certificate_renewal_in_flight', { hostname: name })).toBe(0);
    expect(sample(text, 'certfleet_queue_jobs', { queue: 'issue', state: 'completed', priority: 'any' })).toBe(1);
    expect(sample(text, 'certfleet_queue_jobs', { queue: 'issue', state: 'prioritized', priority: 'visitor' })).toBe(0);
    expect(sample(text, 'certfleet_fleet_metrics_read_errors_total')).toBe(0);
  });

  it('counts a failed validation by result and ACME problem type, and leaves the certificate counts alone', async () => {
    const failing = 'unreachable.example.com';
    // The CA resolves the name to an address no edge listens on: http-01 cannot connect.
    await stack.pebble.challtest('add-a', { host: `${failing}.`, addresses: ['127.0.0.2'] });
    await register(failing);
    const fallback = await handshake(stack.edges[0]!.ports.httpsPort, failing, stack.rootPem);
    expect(fallback.authorized).toBe(false);
    // Counters move at once; the fleet series (budgets) come from a reading shared for a few seconds.
    const text = await until('the issuer metrics to count the failed order and its token', async () => {
      const { text } = await scrape(issuerMetricsPort);
      const counted = sample(text, 'certfleet_acme_orders_total', { ca: 'default', result: 'validation' }) === 1;
      // The failed order took its token too: two orders, two tokens.
      return counted && sample(text, 'certfleet_budget_tokens', { ca: 'default', bucket: 'orders' }) === 98 ? text : undefined;
    });
    expect(sample(text, 'certfleet_acme_order_failures_total', { ca: 'default', problem: 'connection' })).toBe(1);
    expect(sample(text, 'certfleet_acme_orders_total', { ca: 'default', result: 'issued' })).toBe(1);
    expect(sample(text, 'certfleet_certificates', { state: 'active' })).toBe(1);
    // Registered (domains add), never issued, failing: the registry's status index says so.
    const failed = await until('the failing name counted by status', async () => {
      const { text } = await scrape(issuerMetricsPort);
      return sample(text, 'certfleet_hostnames', { status: 'failed' }) === 1 ? text : undefined;
    });
    expect(sample(failed, 'certfleet_hostnames', { status: 'active' })).toBe(1);
    expect(sample(failed, 'certfleet_hostnames', { status: 'total' })).toBe(2);
    // A name that never had a certificate has no expiry to show.
    expect(sample(text, 'certfleet_certificate_expiration_timestamp_seconds', { hostname: failing })).toBeUndefined();
  });

  it("shows the same fleet on the dashboard's metrics port, without the CA's budgets", async () => {
    const text = await until('the dashboard metrics to show the certificate', async () => {
      const { text } = await scrape(dashboardMetricsPort);
      return sample(text, 'certfleet_certificates', { state: 'active' }) === 1 ? text : undefined;
    });
    expect(sample(text, 'certfleet_certificate_expiry_seconds_bucket', { le: '+Inf' })).toBe(1);
    expect(sample(text, 'certfleet_certificate_expiration_timestamp_seconds', { hostname: name })).toBeGreaterThan(Date.now() / 1000);
    expect(sample(text, 'certfleet_queue_jobs', { queue: 'issue', state: 'completed', priority: 'any' })).toBe(1);
    expect(samples(text, 'certfleet_budget_tokens')).toEqual([]);
    // The API's own counter shares the dashboard's registry and port.
    expect(sample(text, 'certfleet_api_requests_total', { route: 'POST /v1/hostnames', status: '201' })).toBe(2);
    expect(sample(text, 'certfleet_hostnames', { status: 'total' })).toBe(2);
    expect(sample(text, 'certfleet_fleet_metrics_read_errors_total')).toBe(0);
  });

  it('says the edge is ready on its metrics port', async () => {
    const { text } = await scrape(stack.edges[0]!.ports.metricsPort);
    expect(sample(text, 'certfleet_edge_ready')).toBe(1);
  });

  it('answers anything but GET /metrics with 404 and keeps serving, whatever the request', async () => {
    for (const path of ['/', '/metrics/', '/metrics?name[]=x', '/metrics%00', `/${'a'.repeat(8_000)}`]) {
      expect((await scrape(dashboardMetricsPort, path)).status, path).toBe(404);
    }
    // Headers past Node's 16 kB limit: refused by the HTTP parser before any metric is read.
    const oversized = await new Promise<number | string>((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port: dashboardMetricsPort,
        method: 'GET',
        path: '/metrics',
        headers: { 'x-evil': 'a'.repeat(20_000) },
      });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('error', (error) => resolve(error.message));
      req.end();
    });
    expect(oversized).toBe(431);
    expect((await scrape(dashboardMetricsPort)).status).toBe(200);
  });

  it('still answers /metrics while Redis is down, without the fleet series, and has them back once it returns', async () => {
    await stack.redis.kill();
    try {
      // Past the shared reading's few seconds, a scrape has to read Redis and cannot.
      const text = await until('a scrape without the fleet series', async () => {
        const { status, text } = await scrape(issuerMetricsPort);
        expect(status).toBe(200);
        return sample(text, 'certfleet_certificates', { state: 'active' }) === undefined ? text : undefined;
      });
      expect(sample(text, 'certfleet_fleet_metrics_read_errors_total')).toBeGreaterThanOrEqual(1);
      // The role's own counters are still there.
      expect(sample(text, 'certfleet_acme_orders_total', { ca: 'default', result: 'issued' })).toBe(1);
    } finally {
      await stack.redis.start();
    }
    // The stack's Redis keeps nothing on disk: the series come back, counting what it holds now.
    await until('the fleet series back after Redis returned', async () => {
      const { text } = await scrape(issuerMetricsPort);
      return sample(text, 'certfleet_certificates', { state: 'active' }) !== undefined;
    });
  });
});
