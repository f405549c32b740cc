import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { cli, metric } from '../support/certfleet.js';
import { ordersFor } from '../support/pebble.js';
import { freePort } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake, normalSerial } from '../support/tls-client.js';
import { hideRenewalInfo } from '../support/acme-proxy.js';
import { redisKeys } from '@certfleet/store';

interface Listed {
  name: string;
  serial: string;
  retiredKind?: string;
  retiredReason?: string;
}

/**
 * Customers who left, both ways: one name is removed from the allowlist, one is simply never
 * visited again. 45-second certificates from Pebble (no ARI: renewal at half the lifetime, some
 * 20-22 s after issuance), an idle period of 10 s, edges recording served names at most once a
 * second. A name visited every two seconds is renewed; the idle one and the one that left are
 * retired, and both reasons are shown and counted by `certfleet certs ls --state retired` (while
 * the retired certificates are kept, until they expire 45 s after issuance).
 */
describe('renewal skips customers who left', () => {
  let stack: Stack;
  let redis: Redis;
  let issuerMetricsPort: number;

  beforeAll(async () => {
    issuerMetricsPort = await freePort();
    stack = await startStack({
      edges: 1,
      issuers: 1,
      renewer: true,
      proxy: true,
      validitySeconds: 45,
      env: {
        RENEW_TICK: '1s',
        // Far longer than issuance needs on a loaded machine: the first handshakes get real certificates.
        EDGE_ISSUE_WAIT: '30s',
        // Node's handshake timeout bounds the wait too: it must outlast it.
        EDGE_HANDSHAKE_TIMEOUT: '40s',
        RENEW_IDLE_AFTER: '10s',
        EDGE_SERVED_RECORD_INTERVAL: '1s',
        ISSUER_METRICS_PORT: String(issuerMetricsPort),
        ISSUER_METRICS_BIND: '127.0.0.1',
      },
      beforeRoles: async ({ proxy }) => {
        hideRenewalInfo(proxy);
      },
    });
    redis = new Redis(stack.redis.port, '127.0.0.1');
  });
  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
  });

  it('renews a name served recently, and retires an idle name and a name that left, with their reasons and counts', async () => {
    const busy = 'busy.example.com';
    const idle = 'idle.example.com';
    // Allowed by a suffix entry: removing the entry takes the name out of the policy, and the
    // issuer retires it at its renewal (removing a registered hostname retires it at once instead).
    const leaving = 'shop.left.example.com';
    const leavingEntry = '*.left.example.com';
    expect((await cli(['domains', 'add', busy, idle, leavingEntry], stack.env)).code).toBe(0);
    const port = stack.edges[0]!.ports.httpsPort;
    const firsts = await Promise.all([busy, idle, leaving].map((name) => handshake(port, name, stack.rootPem)));
    const firstsDoneAt = Date.now();
    expect(firsts.every((h) => h.authorized)).toBe(true);
    expect((await cli(['domains', 'rm', leavingEntry], stack.env)).code).toBe(0);

    // A visitor keeps coming to the busy name, never to the idle one.
    let visiting = true;
    const visits = (async () => {
      while (visiting) {
        await handshake(port, busy, stack.rootPem).catch(() => undefined);
        // A fixed pace is the point: a visitor every two seconds, well inside the idle period.
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
    })();
    try {
      // The issuer's word for each (logs, not the CLI every second: each CLI start costs a node process).
      const issuer = stack.issuers[0]!;
      const logged = (msg: string, name: string) =>
        issuer.waitForLine((l) => l.includes(`"msg":"${msg}"`) && l.includes(`"domain":"${name}"`), 60_000, `${msg}: ${name}`);
      await Promise.all([
        logged('certificate renewed', busy),
        logged('certificate retired: not renewed, kept until it expires', idle),
        logged('certificate retired: not renewed, kept until it expires', leaving),
      ]);
      const done = JSON.parse((await cli(['certs', 'ls', '--json'], stack.env)).stdout) as Listed[];
      expect(normalSerial(done.find((r) => r.name === busy)?.serial ?? '')).not.toBe(normalSerial(firsts[0]!.serial));
      const by = (name: string) => done.find((r) => r.name === name)!;
      expect(by(busy).retiredKind).toBeUndefined();
      expect(by(idle)).toMatchObject({ retiredKind: 'idle', retiredReason: expect.stringMatching(/^idle \(not served since /) });
      expect(by(leaving)).toMatchObject({ retiredKind: 'left-policy', retiredReason: expect.stringMatching(/^no longer allowed/) });
    } finally {
      visiting = false;
      await visits;
    }
    // The busy name was recorded as served within the last few seconds; the idle one only when first served.
    const served = async (name: string) => Number(await redis.zscore(redisKeys(stack.prefix).served, name));
    expect(Date.now() - (await served(busy))).toBeLessThan(15_000);
    expect(await served(idle)).toBeLessThanOrEqual(firstsDoneAt);
    // Neither retired name was ordered again.
    expect(ordersFor(stack.pebble, idle)).toBe(1);
    expect(ordersFor(stack.pebble, leaving)).toBe(1);
    // Orders as the proxy saw them: Pebble may reuse the first authorization (about 1 time in
    // 100 even with PEBBLE_AUTHZREUSE=0), so its validations can undercount the renewal.
    const busyOrders = stack
      .proxy!.newOrders()
      .filter((r) => (r.payload as { identifiers: { value: string }[] }).identifiers[0]?.value === busy);
    expect(busyOrders.length).toBeGreaterThanOrEqual(2);

    const retired = await cli(['certs', 'ls', '--state', 'retired'], stack.env);
    expect(retired.code).toBe(0);
    expect(retired.stdout).toMatch(new RegExp(`${idle}.*retired: idle \\(not served since`));
    expect(retired.stdout).toMatch(new RegExp(`${leaving}.*retired: no longer allowed`));
    expect(retired.stdout).not.toContain(busy);
    expect(retired.stdout).toContain('retired on this page: 1 left the policy, 1 idle; retired ever: 1 left the policy, 1 idle');
    // Counted by the issuer that retired them.
    expect(await metric(issuerMetricsPort, 'certfleet_renewals_retired_total', { kind: 'idle' })).toBe(1);
    expect(await metric(issuerMetricsPort, 'certfleet_renewals_retired_total', { kind: 'left-policy' })).toBe(1);
  }, 180_000);
});
