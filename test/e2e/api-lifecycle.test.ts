import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRole } from '../support/certfleet.js';
import { freePort, type Proc } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake, normalSerial } from '../support/tls-client.js';
import { until } from '../support/wait.js';

const TOKEN = 'api-token-for-the-lifecycle-test';

interface HostnameObject {
  hostname: string;
  status: string;
  certificate: {
    status: string;
    serial: string | null;
    not_before: string | null;
    not_after: string | null;
    issuer: string | null;
    key_types: string[];
    renewal_at: string | null;
  };
  validation_errors: { at: string; type: string; detail: string }[];
  dns?: { cname_target: string; observed: string[] };
  hold?: { budget: string; until: string } | null;
  cooldown_until: string | null;
  custom_metadata: Record<string, unknown> | null;
  created_at: string | null;
}

describe('a hostname through its whole life, driven by the /v1 API against real processes', () => {
  let stack: Stack;
  let dashboard: Proc;
  let port: number;

  const api = async <T = HostnameObject>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
  };
  const get = async (name: string) => (await api('GET', `/v1/hostnames/${name}`)).body;

  beforeAll(async () => {
    // Three certificates per registered domain an hour: the fourth name under one is held by the budget.
    stack = await startStack({ edges: 1, issuers: 1, env: { ACME_BUDGET_REGISTERED_DOMAIN: '3/1h' } });
    port = await freePort();
    dashboard = await startRole('dashboard', {
      ...stack.env,
      DASHBOARD_PORT: String(port),
      DASHBOARD_BIND: '127.0.0.1',
      DASHBOARD_TOKEN: 'dashboard-token-for-the-lifecycle-test',
      API_TOKEN: TOKEN,
      // The dashboard's own view of DNS, for the hostname object's `dns` (the roles keep the allowlist policy).
      ALLOW_POLICY: 'allowlist,dns',
      ALLOW_DNS_CNAME_TARGET: 'edge.certfleet.test',
      DNS_SERVERS: stack.pebble.dnsAddress,
    });
  });
  afterAll(async () => {
    await dashboard?.stop();
    await stack?.stop();
  });

  const edgePort = () => stack.edges[0]?.ports.httpsPort ?? 0;

  it('creates a hostname pending, and a visitor makes it active with its certificate', async () => {
    const created = await api('POST', '/v1/hostnames', { hostname: 'life.example.com', custom_metadata: { customer: 'c-17' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      hostname: 'life.example.com',
      status: 'pending',
      certificate: { status: 'none', serial: null },
      validation_errors: [],
      custom_metadata: { customer: 'c-17' },
    });
    const visit = await handshake(edgePort(), 'life.example.com', stack.rootPem);
    expect(visit.authorized).toBe(true);
    const active = await until('life.example.com active', async () => {
      const object = await get('life.example.com');
      return object.status === 'active' ? object : undefined;
    });
    expect(normalSerial(active.certificate.serial ?? '')).toBe(normalSerial(visit.serial));
    expect(active.certificate).toMatchObject({ status: 'active', key_types: ['ecdsa'], issuer: expect.stringMatching(/Pebble/) });
    expect(Date.parse(active.certificate.not_after ?? '')).toBeGreaterThan(Date.now());
    expect(Date.parse(active.certificate.renewal_at ?? '')).toBeLessThan(Date.parse(active.certificate.not_after ?? ''));
    const listed = await api<{ hostnames: HostnameObject[] }>('GET', '/v1/hostnames?status=active');
    expect(listed.body.hostnames.map((h) => h.hostname)).toEqual(['life.example.com']);
  });

  it('shows a failed http-01 as failed with the address the CA reached, and PATCH retry orders again once DNS is fixed', async () => {
    const name = 'broken.example.net';
    // The CA resolves the name to an address where no edge listens (the edge binds 127.0.0.1 only).
    await stack.pebble.challtest('add-a', { host: `${name}.`, addresses: ['127.0.0.2'] });
    expect((await api('POST', '/v1/hostnames', { hostname: name, issue: true })).status).toBe(201);
    const failed = await until(
      `${name} failed`,
      async () => {
        const object = await get(name);
        return object.status === 'failed' ? object : undefined;
      },
      60_000,
    );
    expect(failed.cooldown_until).not.toBeNull();
    expect(failed.validation_errors[0]).toMatchObject({ type: expect.stringMatching(/^urn:ietf:params:acme:error:/) });
    expect(failed.validation_errors[0]?.detail).toMatch(/the CA reached 127\.0\.0\.2/);
    expect(failed.dns).toEqual({ cname_target: 'edge.certfleet.test', observed: ['127.0.0.2'] });
    const failedList = await api<{ hostnames: HostnameObject[] }>('GET', '/v1/hostnames?status=failed');
    expect(failedList.body.hostnames.map((h) => h.hostname)).toEqual([name]);

    await stack.pebble.challtest('clear-a', { host: `${name}.` });
    const retried = await api('PATCH', `/v1/hostnames/${name}`, { retry: true });
    expect(retried.status).toBe(200);
    expect(retried.body.cooldown_until).toBeNull();
    expect(retried.body.status).toBe('pending');
    const active = await until(
      `${name} active after the retry`,
      async () => {
        const object = await get(name);
        return object.status === 'active' ? object : undefined;
      },
      60_000,
    );
    expect(active.certificate.serial).not.toBeNull();
    expect(active.validation_errors).toEqual([]);
  });

  it('says which CA budget holds a name back and until when', async () => {
    const names = ['h1', 'h2', 'h3', 'h4'].map((label) => `${label}.held.example.org`);
    const bulk = await api<{ results: { result: string }[] }>('POST', '/v1/hostnames:bulk', {
      hostnames: names.map((hostname) => ({ hostname, issue: true })),
    });
    expect(bulk.body.results.map((r) => r.result)).toEqual(['created', 'created', 'created', 'created']);
    const objects = await until(
      'three active and one held',
      async () => {
        const all = await Promise.all(names.map(get));
        const held = all.filter((o) => o.hold);
        return all.filter((o) => o.status === 'active').length === 3 && held.length === 1 ? all : undefined;
      },
      60_000,
    );
    const held = objects.find((o) => o.hold);
    expect(held?.status).toBe('pending');
    expect(held?.hold?.budget).toMatch(/domain:example\.org$/);
    expect(Date.parse(held?.hold?.until ?? '')).toBeGreaterThan(Date.now() + 10 * 60_000);
    expect(held?.validation_errors[0]).toMatchObject({
      type: 'certfleet:budget',
      detail: expect.stringMatching(/domain:example\.org is spent; the order waits until/),
    });
  });

  it('deletes a hostname: retired, off the allowlist, its certificate kept until it expires; purge removes it', async () => {
    const deleted = await api('DELETE', '/v1/hostnames/life.example.com');
    expect(deleted.status).toBe(200);
    expect(deleted.body.status).toBe('retired');
    expect(deleted.body.certificate.serial).not.toBeNull();
    expect((await get('life.example.com')).status).toBe('retired');
    const retiredList = await api<{ hostnames: HostnameObject[] }>('GET', '/v1/hostnames?status=retired');
    expect(retiredList.body.hostnames.map((h) => h.hostname)).toEqual(['life.example.com']);
    const purged = await api('DELETE', '/v1/hostnames/life.example.com?purge=true');
    expect(purged.status).toBe(204);
    expect((await api('GET', '/v1/hostnames/life.example.com')).status).toBe(404);
  });

  it('creates 10,000 hostnames in one bulk call and lists them page by page, by prefix, status and expiry', async () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `n${String(i).padStart(5, '0')}.bulk.example.com`);
    const bulk = await api<{ results: { hostname: string; result: string }[] }>('POST', '/v1/hostnames:bulk', {
      hostnames: names.map((hostname) => ({ hostname })),
    });
    expect(bulk.status).toBe(200);
    expect(bulk.body.results.filter((r) => r.result === 'created')).toHaveLength(10_000);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/v1/hostnames?q=n&limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await api<{ hostnames: HostnameObject[]; next_cursor: string | null }>('GET', path);
      expect(page.status).toBe(200);
      seen.push(...page.body.hostnames.map((h) => h.hostname));
      cursor = page.body.next_cursor;
      pages += 1;
    } while (cursor && pages < 20);
    expect(seen).toEqual(names);
    expect(pages).toBeGreaterThanOrEqual(10);

    const prefix = await api<{ hostnames: HostnameObject[] }>('GET', '/v1/hostnames?q=n0999&limit=1000');
    expect(prefix.body.hostnames.map((h) => h.hostname)).toEqual(names.slice(9_990));
    const pending = await api<{ hostnames: HostnameObject[]; next_cursor: string | null }>(
      'GET',
      '/v1/hostnames?status=pending&q=n09&limit=1000',
    );
    expect(pending.body.hostnames).toHaveLength(1_000);
    expect(pending.body.hostnames.every((h) => h.status === 'pending')).toBe(true);
    // Pebble's certificates live years: list what expires within a day after the one active certificate.
    const notAfter = Date.parse((await get('broken.example.net')).certificate.not_after ?? '');
    const soon = new Date(notAfter + 86_400_000).toISOString();
    const expiring = await api<{ hostnames: HostnameObject[] }>('GET', `/v1/hostnames?expiring_before=${soon}`);
    // Every certificate stored so far (the failed-then-fixed name and the three under the budget), soonest first.
    const listed = expiring.body.hostnames;
    expect(listed).toHaveLength(4);
    expect(listed.map((h) => h.hostname)).toContain('broken.example.net');
    expect(listed.every((h) => h.status === 'active' && /^(broken\.example\.net|h[1-4]\.held\.example\.org)$/.test(h.hostname))).toBe(true);
    const notAfters = listed.map((h) => Date.parse(h.certificate.not_after ?? ''));
    expect(notAfters).toEqual([...notAfters].sort((a, b) => a - b));
  });
});
