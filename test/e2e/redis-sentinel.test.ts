import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createIssueQueue } from '@certfleet/queue';
import { connectTo, createStore, type Store } from '@certfleet/store';
import { cli } from '../support/certfleet.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake } from '../support/tls-client.js';
import { until } from '../support/wait.js';

/**
 * Issue 12's failover: a Sentinel group (master, replica, three sentinels) under two edges, two
 * issuers and a renewer, the master SIGKILLed while 30 new names are being issued. Measured and
 * printed: promotion time, time to the first new issuance after the kill and after the promotion,
 * handshakes of cached names that failed meanwhile.
 */

const CACHED = ['cached-a.example.com', 'cached-b.example.com', 'cached-c.example.com', 'cached-d.example.com'];
// 30 new names: 10 issued before the kill, 10 whose handshakes start just before it, 10 during the failover.
const BEFORE = Array.from({ length: 10 }, (_, i) => `before-${i}.example.com`);
const AT_KILL = Array.from({ length: 10 }, (_, i) => `at-kill-${i}.example.com`);
const DURING = Array.from({ length: 10 }, (_, i) => `during-${i}.example.com`);
const ALL = [...CACHED, ...BEFORE, ...AT_KILL, ...DURING];

describe('a Sentinel failover under load: the master is killed while 30 names are being issued', () => {
  let stack: Stack;
  let client: Redis;
  let store: Store;

  beforeAll(async () => {
    stack = await startStack({
      topology: 'sentinel',
      edges: 2,
      issuers: 2,
      renewer: true,
      proxy: true,
      // Long enough for a new name's first handshake to wait for its certificate on this 2-core machine.
      env: { EDGE_ISSUE_WAIT: '5s' },
    });
    const sentinel = stack.sentinel!;
    // Through connectTo, like the roles: a plain ioredis client with failoverDetector can end
    // for good in a failover (see redis-sentinel-reconnect.test.ts).
    client = connectTo(
      {
        topology: {
          kind: 'sentinel',
          sentinels: sentinel.sentinels.map((s) => ({ host: '127.0.0.1', port: Number(s.split(':')[1]) })),
          masterName: sentinel.masterName,
        },
        username: undefined,
        password: undefined,
        tls: undefined,
        endpoints: [],
        description: 'the test sentinels',
      },
      { forBullmq: true },
    ) as Redis;
    // Refused connections to the killed master are expected; the client follows the sentinels.
    client.on('error', () => undefined);
    store = createStore(client, stack.prefix, { keyring: stack.keyring });
    const added = await cli(['domains', 'add', ...ALL], stack.env);
    expect(added.code, added.stderr).toBe(0);
  });
  afterAll(async () => {
    client?.disconnect();
    await stack?.stop();
  });

  const edgePort = (i: number) => stack.edges[i % 2]!.ports.httpsPort;

  /** Handshakes `name` until the edge serves a certificate that verifies, returning when it did. */
  const issueByVisiting = async (name: string, edge: number, timeoutMs = 90_000): Promise<number> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = await handshake(edgePort(edge), name, stack.rootPem).catch(() => undefined);
      if (result?.authorized && result.subjectaltname === `DNS:${name}`) return Date.now();
      if (Date.now() > deadline) throw new Error(`${name}: no certificate within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  it('serves cached names throughout, issues new names soon after the promotion, loses no job and no certificate, orders once per name', async () => {
    const sentinel = stack.sentinel!;
    // Cached names on both edges (each edge's memory and local store hold them), and the first 10 new names.
    await Promise.all(CACHED.map((name, i) => issueByVisiting(name, i)));
    await Promise.all(CACHED.flatMap((name) => [0, 1].map((edge) => issueByVisiting(name, edge))));
    await Promise.all(BEFORE.map((name, i) => issueByVisiting(name, i)));

    // The probe loop: one handshake after another on each edge, cached names only, for the whole failover.
    let probing = true;
    const probes = { ok: 0, failed: [] as string[] };
    const probeLoop = async (edge: number) => {
      for (let i = 0; probing; i += 1) {
        const name = CACHED[i % CACHED.length]!;
        const result = await handshake(edgePort(edge), name, stack.rootPem).catch((error: Error) => error);
        if (!(result instanceof Error) && result.authorized && result.subjectaltname === `DNS:${name}`) probes.ok += 1;
        else probes.failed.push(`${name} on edge ${edge}: ${result instanceof Error ? result.message : result.subjectaltname}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const probeLoops = [probeLoop(0), probeLoop(1)];

    // Names in flight at the kill: their handshakes (and so their jobs) start, then the master dies.
    const atKill = AT_KILL.map((name, i) => issueByVisiting(name, i));
    const queue = createIssueQueue({ connection: client, prefix: store.queuePrefix });
    await until(
      'the in-flight names are enqueued',
      async () =>
        (await queue.getJobs(['waiting', 'prioritized', 'active', 'completed'])).filter((j) => j.data.name.startsWith('at-kill-')).length >=
        5,
      20_000,
      25,
    );
    const enqueuedBeforeKill = (await queue.getJobs(['waiting', 'prioritized', 'active', 'delayed', 'completed'])).map((job) => ({
      id: job.id as string,
      name: job.data.name,
    }));
    const certificatesBeforeKill = new Map<string, string>();
    for (const name of [...CACHED, ...BEFORE, ...AT_KILL]) {
      const cert = await store.certificates.get(name);
      if (cert) certificatesBeforeKill.set(name, cert.serial);
    }

    const oldMasterPort = await sentinel.currentMasterPort();
    const killedAt = Date.now();
    await sentinel.killMaster();
    // Visitors of names never seen before, during the failover.
    const during = DURING.map((name, i) => issueByVisiting(name, i));
    const promotedAt = await until(
      'a replica is promoted',
      async () => {
        const port = await sentinel.currentMasterPort().catch(() => undefined);
        return port !== undefined && port !== oldMasterPort ? Date.now() : undefined;
      },
      60_000,
      50,
    );
    const duringIssuedAt = await Promise.all(during);
    const atKillIssuedAt = await Promise.all(atKill);
    // A few more seconds of probes after the last issuance.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    probing = false;
    await Promise.all(probeLoops);

    const firstNew = Math.min(...duringIssuedAt);
    const lastNew = Math.max(...duringIssuedAt);
    const timings = {
      promotionMs: promotedAt - killedAt,
      firstNewIssuanceAfterKillMs: firstNew - killedAt,
      firstNewIssuanceAfterPromotionMs: firstNew - promotedAt,
      lastNewIssuanceAfterPromotionMs: lastNew - promotedAt,
      inFlightAtKillDoneAfterKillMs: Math.max(...atKillIssuedAt) - killedAt,
      cachedHandshakesOk: probes.ok,
      cachedHandshakesFailed: probes.failed.length,
      jobsEnqueuedBeforeKill: enqueuedBeforeKill.length,
    };
    console.log(`sentinel failover timings: ${JSON.stringify(timings)}`);
    if (probes.failed.length) console.log(`failed cached handshakes:\n${probes.failed.join('\n')}`);

    // Cached names served throughout.
    expect(probes.failed).toEqual([]);
    expect(probes.ok).toBeGreaterThan(20);
    // New names issued within 15 s of the promotion.
    expect(timings.lastNewIssuanceAfterPromotionMs).toBeLessThanOrEqual(15_000);
    // Every job enqueued before the kill completed.
    await until(
      'every job enqueued before the kill completes',
      async () => {
        const states = await Promise.all(enqueuedBeforeKill.map(async (job) => (await queue.getJob(job.id))?.getState()));
        return states.every((state) => state === 'completed') || undefined;
      },
      30_000,
      250,
    );
    // No certificate lost: every name stored before the kill still has the same certificate.
    for (const [name, serial] of certificatesBeforeKill) expect((await store.certificates.get(name))?.serial, name).toBe(serial);
    const orders = new Map<string, number>();
    for (const record of stack.proxy!.newOrders()) {
      const name = (record.payload as { identifiers: { value: string }[] }).identifiers[0]?.value ?? '';
      orders.set(name, (orders.get(name) ?? 0) + 1);
    }
    // Exactly one ACME order per name, those in flight at the kill included: the writes inside
    // an order (challenge answer, certificate) wait out the failover instead of failing the order.
    expect(Object.fromEntries(ALL.map((name) => [name, orders.get(name) ?? 0]))).toEqual(Object.fromEntries(ALL.map((name) => [name, 1])));
    await queue.close();
  });
});
