import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '@certfleet/store';
import { newPrefix, startRole } from '../support/certfleet.js';
import { freePort, type Proc } from '../support/processes.js';
import { type RedisClusterTopology, startRedisCluster } from '../support/redis-topologies.js';

const TOKEN = 'api-token-for-the-cluster-test';

interface Page {
  hostnames: { hostname: string; status: string; custom_metadata: Record<string, unknown> | null }[];
  next_cursor: string | null;
}

/**
 * The hostname registry and the /v1 API on a Redis Cluster of three masters: per-name keys
 * spread over the masters, the indexes and the audit stream in slots of their own, and every
 * batched read and write kept within one slot (ioredis refuses a pipeline across masters).
 */
describe('the /v1 hostname API on a Redis Cluster', () => {
  let cluster: RedisClusterTopology;
  let dashboard: Proc;
  let port: number;
  const prefix = newPrefix('api-cluster');

  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
  };

  beforeAll(async () => {
    cluster = await startRedisCluster();
    port = await freePort();
    dashboard = await startRole('dashboard', {
      REDIS_CLUSTER_NODES: cluster.nodes.join(','),
      CERTFLEET_PREFIX: prefix,
      DASHBOARD_PORT: String(port),
      DASHBOARD_BIND: '127.0.0.1',
      DASHBOARD_TOKEN: 'dashboard-token-for-the-cluster-test',
      API_TOKEN: TOKEN,
    });
  });
  afterAll(async () => {
    await dashboard?.stop();
    await cluster?.stop();
  });

  it('creates names in bulk, pages through them, follows a name-state change into the status index, and deletes', async () => {
    const names = Array.from({ length: 2_500 }, (_, i) => `c${String(i).padStart(4, '0')}.cluster.example.com`);
    const bulk = await api<{ results: { result: string }[] }>('POST', '/v1/hostnames:bulk', {
      hostnames: names.map((hostname, i) => ({ hostname, custom_metadata: { i } })),
    });
    expect(bulk.status).toBe(200);
    expect(bulk.body.results.every((r) => r.result === 'created')).toBe(true);

    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page += 1) {
      const path: string = `/v1/hostnames?limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
      const answer = await api<Page>('GET', path);
      expect(answer.status).toBe(200);
      seen.push(...answer.body.hostnames.map((h) => h.hostname));
      expect(answer.body.hostnames.every((h) => h.status === 'pending')).toBe(true);
      cursor = answer.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(names);

    // An issuer's failed validation, through the store on the same Cluster, moves the name to the failed index.
    const client = cluster.client();
    const store = createStore(client, prefix);
    await store.nameStates.markCooling('c0042.cluster.example.com', 'connection refused', Date.now() + 60_000, Date.now());
    const failed = await api<Page>('GET', '/v1/hostnames?status=failed');
    expect(failed.body.hostnames.map((h) => h.hostname)).toEqual(['c0042.cluster.example.com']);

    const patched = await api<Page['hostnames'][number]>('PATCH', '/v1/hostnames/c0042.cluster.example.com', {
      retry: true,
      custom_metadata: { fixed: true },
    });
    expect(patched.body).toMatchObject({ status: 'pending', custom_metadata: { fixed: true } });
    expect((await api<Page>('GET', '/v1/hostnames?status=failed')).body.hostnames).toEqual([]);

    expect((await api<{ status: string }>('DELETE', '/v1/hostnames/c0001.cluster.example.com')).body.status).toBe('retired');
    expect((await api('DELETE', '/v1/hostnames/c0002.cluster.example.com?purge=true')).status).toBe(204);
    const counts = await store.hostnames.counts();
    expect(counts).toMatchObject({ total: 2_499, retired: 1, pending: 2_498, failed: 0 });
    const audit = await store.audit.recent(5);
    expect(audit.map((entry) => entry.action)).toEqual(['purge', 'delete', 'retry', 'update', 'create']);
  });
});
