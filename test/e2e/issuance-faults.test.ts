import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createStore } from '@certfleet/store';
import { cli } from '../support/certfleet.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake } from '../support/tls-client.js';
import { until } from '../support/wait.js';
import { issueQueue } from '../support/queue.js';

/**
 * Faults around the issuers: an issuer killed mid-order, the CA stopped until every order in
 * flight has failed on it, Redis restarted under load. Two issuers with a short job lock
 * (3 s), so a dead issuer's job is taken over quickly; Redis with an append-only file, so a
 * restart keeps its data.
 */
describe('issuance survives faults', () => {
  let stack: Stack;
  let redis: Redis;
  beforeAll(async () => {
    stack = await startStack({
      edges: 1,
      issuers: 2,
      renewer: true,
      proxy: true,
      persistentRedis: true,
      env: { ISSUER_LOCK: '3s', RENEW_TICK: '1s' },
    });
    redis = new Redis(stack.redis.port, '127.0.0.1', { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
  });
  const store = () => createStore(redis, stack.prefix, { keyring: stack.keyring });
  const issuedAll = async (names: string[]) => (await Promise.all(names.map((n) => store().certificates.get(n)))).every(Boolean);
  const failedJobs = async () => {
    const queue = issueQueue(stack.redis.port, stack.prefix);
    try {
      return await queue.getJobCountByTypes('failed');
    } finally {
      await queue.close();
    }
  };

  it('completes the job on another issuer after kill -9 of the one finalizing, storing one certificate', async () => {
    const name = 'killed.example.com';
    let victim: number | undefined;
    stack.proxy!.addRule({
      kind: 'finalize',
      times: 1,
      hook: () => {
        const issuer = stack.issuers.find((p) => p.logs('issuance started').some((r) => r.domain === name));
        victim = issuer?.child.pid;
        issuer?.child.kill('SIGKILL');
      },
    });
    await cli(['domains', 'add', '--issue', name], stack.env);
    const cert = await until(
      'the certificate is stored',
      () =>
        store()
          .certificates.get(name)
          .then((c) => c ?? undefined),
      60_000,
      250,
    );
    expect(victim).toBeDefined();
    const survivor = stack.issuers.find((p) => p.child.pid !== victim)!;
    await until(
      'the surviving issuer logs the issuance',
      () => survivor.logs('certificate issued').some((r) => r.domain === name),
      5_000,
      50,
    );
    const listed = JSON.parse((await cli(['certs', 'ls', '--json'], stack.env)).stdout) as { name: string }[];
    expect(listed.filter((c) => c.name === name)).toHaveLength(1);
    expect((await handshake(stack.edges[0]!.ports.httpsPort, name, stack.rootPem)).serial).toBe(cert.serial.replace(/^0+/, ''));
    expect(await failedJobs()).toBe(0);
  }, 90_000);

  it('issues every queued name after the CA stopped answering until each order timed out, losing no job', async () => {
    const names = Array.from({ length: 5 }, (_, i) => `outage-${i}.example.com`);
    const pebble = stack.pebble.pebble.child;
    // Each name's job met the outage: its order failed (the issuer's ACME requests time out after
    // 15 s), or the CA was already paused for it; either way the job was put off, not dropped.
    // Stopping the CA longer proves nothing more: the jobs wait out the pause either way.
    const metOutage = (name: string) =>
      stack.issuers.some(
        (issuer) =>
          issuer.logs('order failed').some((r) => r.domain === name) ||
          issuer.logs('no CA can take the order now; job delayed').some((r) => r.domain === name),
      );
    pebble.kill('SIGSTOP');
    try {
      await cli(['domains', 'add', '--issue', ...names], stack.env);
      await until('every job met the outage', () => names.every(metOutage), 60_000, 250);
      expect(await issuedAll(names)).toBe(false);
    } finally {
      pebble.kill('SIGCONT');
    }
    await until('every name issued after the CA returned', () => issuedAll(names), 90_000, 500);
    expect(await failedJobs()).toBe(0);
  }, 180_000);

  it('keeps working through a Redis restart under load: every role reconnects by itself', async () => {
    const port = stack.edges[0]!.ports.httpsPort;
    await cli(['domains', 'add', 'steady.example.com'], stack.env);
    expect((await handshake(port, 'steady.example.com', stack.rootPem)).authorized).toBe(true);
    let stop = false;
    let served = 0;
    let failed = 0;
    // Load: handshakes for a name the edge holds in memory, throughout the restart.
    const load = (async () => {
      while (!stop) {
        const result = await handshake(port, 'steady.example.com', stack.rootPem).catch(() => undefined);
        if (result?.authorized) served += 1;
        else failed += 1;
      }
    })();
    await until('the load running', () => served >= 3, 10_000, 20);
    await stack.redis.restart();
    const servedAtRestart = served;
    await until('the load served on after the restart', () => served >= servedAtRestart + 3, 10_000, 20);
    const after = ['after-restart-a.example.com', 'after-restart-b.example.com'];
    const added = await cli(['domains', 'add', '--issue', ...after], stack.env);
    expect(added.code, added.stderr).toBe(0);
    await until('names issued after the restart', () => issuedAll(after), 60_000, 500);
    await cli(['domains', 'add', 'visitor-after-restart.example.com'], stack.env);
    const visitor = await until(
      'a visitor served after the restart',
      async () => (await handshake(port, 'visitor-after-restart.example.com', stack.rootPem)).authorized || undefined,
      30_000,
      500,
    );
    stop = true;
    await load;
    expect(visitor).toBe(true);
    expect(served).toBeGreaterThan(10);
    expect(failed).toBe(0);
    const survivors = [...stack.edges.map((e) => e.proc), ...stack.issuers, stack.renewer!];
    expect(survivors.filter((p) => p.alive).length).toBe(survivors.length - 1); // the issuer killed above
  }, 120_000);
});
