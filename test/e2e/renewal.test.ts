import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startRole } from '../support/certfleet.js';
import { ordersFor } from '../support/pebble.js';
import type { Proc } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake } from '../support/tls-client.js';
import { until } from '../support/wait.js';
import { hideRenewalInfo } from '../support/acme-proxy.js';

interface Shown {
  notBefore: number;
  notAfter: number;
  renewAt: number;
}

/**
 * Pebble 2.6 issues 2-minute certificates here, so renewals happen within the test, in real
 * time, through the real renewers (three of them), issuer and edges, with the fault proxy in
 * front of Pebble recording every order. With ARI, Pebble suggests the window and each renewal
 * order names the certificate it replaces; with `renewalInfo` filtered out of the directory,
 * certfleet renews at its own point (half the lifetime left, for lifetimes under ten days).
 */
describe.each([
  { ari: true, title: 'with ARI (Pebble 2.6 renewalInfo)' },
  { ari: false, title: 'without ARI (renewalInfo removed from the directory)' },
])('renewal of short-lived certificates $title', ({ ari }) => {
  let stack: Stack;
  const renewers: Proc[] = [];

  beforeAll(async () => {
    stack = await startStack({
      edges: 2,
      issuers: 1,
      renewer: true,
      proxy: true,
      validitySeconds: 120,
      env: { RENEW_TICK: '1s' },
      beforeRoles: async ({ proxy }) => {
        if (!ari) hideRenewalInfo(proxy);
      },
    });
    // Renewers can run in any number: a fleet-wide lease lets one tick run at a time.
    for (const label of ['b', 'c'])
      renewers.push(await startRole('renewer', { ...stack.env, RENEW_TICK: '1s' }, `renewer-${stack.prefix}-${label}`));
  });
  afterAll(async () => {
    await Promise.all(renewers.map((r) => r.stop()));
    await stack?.stop();
  });

  it('renews before expiry, each certificate once, edges serve the new serial without a restart; a name that left is retired', async () => {
    const name = 'renew.example.com';
    const leaving = 'leaving.example.com';
    expect((await cli(['domains', 'add', name, leaving], stack.env)).code).toBe(0);
    const [edgeA, edgeB] = stack.edges as [Stack['edges'][number], Stack['edges'][number]];
    // A customer who leaves: issued now, removed from the allowlist before its renewal.
    const leavingFirst = await handshake(edgeB.ports.httpsPort, leaving, stack.rootPem);
    expect(leavingFirst.authorized).toBe(true);
    expect((await cli(['domains', 'rm', leaving], stack.env)).code).toBe(0);
    const first = await handshake(edgeA.ports.httpsPort, name, stack.rootPem);
    expect(first.authorized).toBe(true);
    // The renewal time is settled once the CA's window (or its absence) is known.
    await until('the renewal is scheduled', () => stack.issuers[0]!.logs('renewal scheduled').some((r) => r.domain === name), 10_000, 50);
    const shown = JSON.parse((await cli(['certs', 'show', name, '--json'], stack.env)).stdout) as Shown;
    const lifetime = shown.notAfter - shown.notBefore;
    expect(lifetime).toBeLessThanOrEqual(120_000);
    const scheduled = stack.issuers[0]!.logs('renewal scheduled').find((r) => r.domain === name) as {
      ari: { start: string; end: string } | null;
    };
    if (ari) {
      // Inside Pebble's suggested window, never in the last tenth of the life.
      expect(scheduled.ari).not.toBeNull();
      expect(shown.renewAt).toBeGreaterThanOrEqual(Date.parse(scheduled.ari!.start));
      expect(shown.renewAt).toBeLessThanOrEqual(Date.parse(scheduled.ari!.end));
      expect(shown.renewAt).toBeLessThanOrEqual(shown.notAfter - lifetime / 10 + 1);
    } else {
      // Half the lifetime left (under ten days of lifetime), up to 5 % earlier by a per-name jitter.
      expect(scheduled.ari).toBeNull();
      expect(shown.renewAt).toBeLessThanOrEqual(shown.notAfter - lifetime * 0.5 + 1);
      expect(shown.renewAt).toBeGreaterThanOrEqual(shown.notAfter - lifetime * 0.55 - 1);
    }
    expect((await handshake(edgeB.ports.httpsPort, name, stack.rootPem)).serial).toBe(first.serial);

    let renewed = first;
    while (renewed.serial === first.serial && Date.now() < shown.notAfter) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      renewed = await handshake(edgeA.ports.httpsPort, name, stack.rootPem);
    }
    expect(Date.now()).toBeLessThan(shown.notAfter);
    expect(renewed.serial).not.toBe(first.serial);
    expect(renewed.authorized).toBe(true);
    await stack.pebble.waitForIssued(renewed.serial);
    // Renewed no earlier than scheduled (within a renewer tick and the order's time).
    const renewedAt = (await until(
      'the issuer logs the renewal',
      () => stack.issuers[0]!.logs('certificate renewed').find((r) => r.domain === name),
      5_000,
      50,
    )) as { time: string };
    expect(Date.parse(renewedAt.time)).toBeGreaterThanOrEqual(shown.renewAt);
    expect((await handshake(edgeB.ports.httpsPort, name, stack.rootPem)).serial).toBe(renewed.serial);

    // The orders as the CA saw them: with ARI every renewal names the certificate it replaces,
    // and no certificate is replaced twice although three renewers run.
    const orders = stack.proxy!.newOrders().map((r) => r.payload as { identifiers: { value: string }[]; replaces?: string });
    const renewals = orders.filter((o) => o.identifiers[0]?.value === name).slice(1);
    expect(renewals.length).toBeGreaterThanOrEqual(1);
    if (ari) {
      expect(renewals.every((o) => typeof o.replaces === 'string')).toBe(true);
      expect(new Set(renewals.map((o) => o.replaces)).size).toBe(renewals.length);
    } else {
      expect(renewals.every((o) => o.replaces === undefined)).toBe(true);
      expect(renewals).toHaveLength(1);
    }

    // The name that left was not renewed: retired, still served until it expires.
    const retired = await until(
      'the name that left is retired',
      async () => {
        const list = JSON.parse((await cli(['certs', 'ls', '--state', 'retired', '--json'], stack.env)).stdout) as {
          name: string;
          retiredReason?: string;
        }[];
        return list.find((c) => c.name === leaving);
      },
      130_000,
      500,
    );
    expect(retired.retiredReason).toMatch(/^no longer allowed/);
    expect(ordersFor(stack.pebble, leaving)).toBe(1);
    const stillServed = await handshake(edgeB.ports.httpsPort, leaving, stack.rootPem);
    if (Date.now() < shown.notAfter - 1_000) expect(stillServed.serial).toBe(leavingFirst.serial);
    const active = JSON.parse((await cli(['certs', 'ls', '--state', 'active', '--json'], stack.env)).stdout) as { name: string }[];
    expect(active.map((c) => c.name)).toEqual([name]);
    // Neither edge restarted to pick it up.
    expect(stack.edges.every((edge) => edge.proc.alive && edge.proc.logs('edge listening').length === 1)).toBe(true);
  }, 300_000);
});
