import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeys } from '@certfleet/store';
import { newPrefix, startRole } from '../support/certfleet.js';
import { freePort, REPO_ROOT, type Proc } from '../support/processes.js';
import { startPlainRedis, type PlainRedis } from '../support/redis-topologies.js';
import { startStack, type Stack } from '../support/stack.js';

const USERS = ['edge', 'issuer', 'renewer', 'dashboard', 'admin'] as const;
type User = (typeof USERS)[number];

/** The value of the sample `name{…labels}` in Prometheus text; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = text.split('\n').find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && wanted.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/**
 * The fleet metrics read the indexes, name states, pauses, budgets and the queue at scrape time:
 * under infra/redis/users.acl.template each role's user must be allowed every one of those reads,
 * or the series silently disappear (counted in certfleet_fleet_metrics_read_errors_total).
 */
describe('fleet metrics under the Redis ACL users', () => {
  const prefix = newPrefix('macl');
  const passwords = Object.fromEntries(USERS.map((user) => [user, randomBytes(12).toString('hex')])) as Record<User, string>;
  let redis: PlainRedis;
  let stack: Stack;
  let dashboard: Proc;
  let issuerMetricsPort: number;
  let dashboardMetricsPort: number;
  const urlOf = (user: User) => `redis://certfleet-${user}:${passwords[user]}@127.0.0.1:${redis.port}`;

  beforeAll(async () => {
    const rendered = execFileSync('sh', [join(REPO_ROOT, 'infra/redis/render-acl.sh'), prefix], {
      env: {
        ...process.env,
        ...Object.fromEntries(USERS.map((user) => [`CERTFLEET_REDIS_PASSWORD_${user.toUpperCase()}`, passwords[user]])),
      },
      encoding: 'utf8',
    });
    redis = await startPlainRedis('redis-metrics-acl', (dir) => {
      const file = join(dir, 'users.acl');
      writeFileSync(file, rendered);
      return ['--aclfile', file];
    });
    [issuerMetricsPort, dashboardMetricsPort] = await Promise.all([freePort(), freePort()]);
    stack = await startStack({
      externalRedisUrl: urlOf('admin'),
      prefix,
      roleEnv: {
        edge: { REDIS_URL: urlOf('edge') },
        issuer: { REDIS_URL: urlOf('issuer'), ISSUER_METRICS_PORT: String(issuerMetricsPort) },
        renewer: { REDIS_URL: urlOf('renewer') },
      },
    });
    dashboard = await startRole(
      'dashboard',
      {
        ...stack.env,
        REDIS_URL: urlOf('dashboard'),
        DASHBOARD_PORT: String(await freePort()),
        DASHBOARD_TOKEN: 'metrics-acl-dashboard-token-0123',
        DASHBOARD_METRICS_PORT: String(dashboardMetricsPort),
      },
      `dashboard-${prefix}`,
    );
    // A certificate in the indexes, as the admin user, so that a scrape also reads a name's state.
    const admin = redis.client({ username: 'certfleet-admin', password: passwords.admin });
    const keys = redisKeys(prefix);
    const notAfter = Date.now() + 30 * 86_400_000;
    await admin.zadd(keys.inventory, notAfter, 'acl-metrics.example.com');
    await admin.zadd(keys.renewals, notAfter - 10 * 86_400_000, 'acl-metrics.example.com');
    await admin.hset(keys.nameState('acl-metrics.example.com'), { state: 'active', updatedAt: Date.now() });
  });
  afterAll(async () => {
    await dashboard?.stop();
    await stack?.stop();
    await redis?.stop();
  });

  it.each([
    ['issuer', () => issuerMetricsPort],
    ['dashboard', () => dashboardMetricsPort],
  ])("reads every fleet series with the %s's own user", async (_role, port) => {
    const text = await (await fetch(`http://127.0.0.1:${port()}/metrics`)).text();
    expect(sample(text, 'certfleet_fleet_metrics_read_errors_total')).toBe(0);
    expect(sample(text, 'certfleet_certificates', { state: 'active' })).toBe(1);
    expect(sample(text, 'certfleet_certificate_expiry_seconds_bucket', { le: '+Inf' })).toBe(1);
    expect(sample(text, 'certfleet_certificate_expiration_timestamp_seconds', { hostname: 'acl-metrics.example.com' })).toBeGreaterThan(0);
    expect(sample(text, 'certfleet_certificate_renewal_in_flight', { hostname: 'acl-metrics.example.com' })).toBe(0);
    expect(sample(text, 'certfleet_queue_jobs', { queue: 'issue', state: 'failed', priority: 'any' })).toBe(0);
    expect(sample(text, 'certfleet_hostnames', { status: 'total' })).toBe(0);
  });

  it("reads the CA's budget and pause with the issuer's user", async () => {
    const text = await (await fetch(`http://127.0.0.1:${issuerMetricsPort}/metrics`)).text();
    expect(sample(text, 'certfleet_budget_tokens', { ca: 'default', bucket: 'orders' })).toBe(300);
    expect(sample(text, 'certfleet_ca_paused', { ca: 'default' })).toBe(0);
  });
});
