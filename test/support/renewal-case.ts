import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '@certfleet/store';
import { hideRenewalInfo } from './acme-proxy.js';
import { cli, startRole } from './certfleet.js';
import { ordersFor } from './pebble.js';
import type { Proc } from './processes.js';
import { startStack, type Stack } from './stack.js';
import { handshake, normalSerial } from './tls-client.js';
import { until } from './wait.js';

/**
 * Pebble 2.6 issues certificates of `validitySeconds` here, so renewals happen within the test,
 * in real time, through the real renewers (three of them), issuer and edges, with the fault proxy
 * in front of Pebble recording every order. With ARI, Pebble suggests the window and each renewal
 * order names the certificate it replaces; with `renewalInfo` filtered out of the directory,
 * certfleet renews at its own point (half the lifetime left, for lifetimes under ten days).
 *
 * One file per case (renewal.test.ts, renewal-ari.test.ts), so the two wait side by side.
 */
export function describeRenewal({ ari, title, validitySeconds }: { ari: boolean; title: string; validitySeconds: number }): void {
  describe(`renewal of short-lived certificates ${title}`, () => {
    let stack: Stack;
    const renewers: Proc[] = [];

    beforeAll(async () => {
      stack = await startStack({
        edges: 2,
        issuers: 1,
        renewer: true,
        proxy: true,
        validitySeconds,
        env: { RENEW_TICK: '1s' },
        beforeRoles: async ({ proxy }) => {
          if (!ari) hideRenewalInfo(proxy);
        },
      });
      // Renewers can run in any number: a fleet-wide lease lets one tick run at a time.
      await Promise.all(
        ['b', 'c'].map(async (label) =>
          renewers.push(await startRole('renewer', { ...stack.env, RENEW_TICK: '1s' }, `renewer-${stack.prefix}-${label}`)),
        ),
      );
    });
    afterAll(async () => {
      await Promise.all(renewers.map((r) => r.stop()));
      await stack?.stop();
    });

    it(
      'renews before expiry, each certificate once, edges serve the new serial without a restart; a name that left is retired',
      async () => {
        const name = 'renew.example.com';
        // Allowed by a suffix entry: removing the entry takes the name out of the policy, and the
        // issuer retires it at its renewal (removing a registered hostname retires it at once instead).
        const leaving = 'shop.leaving.example.com';
        const leavingEntry = '*.leaving.example.com';
        expect((await cli(['domains', 'add', name, leavingEntry], stack.env)).code).toBe(0);
        const [edgeA, edgeB] = stack.edges as [Stack['edges'][number], Stack['edges'][number]];
        const issuer = stack.issuers[0]!;
        // A customer who leaves: issued now, removed from the allowlist before its renewal. With
        // ARI that renewal may be picked for any moment from issuance on, even before `domains rm`
        // returns (1-2 s of the 81: about 1 run in 50), so the CA's window for the first
        // certificate (this one's) is held at the proxy until the name has left.
        let left = () => {};
        const hasLeft = new Promise<void>((resolve) => (left = resolve));
        if (ari) stack.proxy!.addRule({ kind: 'renewalInfo', times: 1, hook: () => hasLeft });
        const leavingFirst = await handshake(edgeB.ports.httpsPort, leaving, stack.rootPem);
        try {
          expect(leavingFirst.authorized).toBe(true);
          expect((await cli(['domains', 'rm', leavingEntry], stack.env)).code).toBe(0);
        } finally {
          left();
        }
        const first = await handshake(edgeA.ports.httpsPort, name, stack.rootPem);
        expect(first.authorized).toBe(true);
        // The other edge serves the same certificate from Redis. Asked at once: with ARI the renewal
        // may be due any moment from now on.
        expect((await handshake(edgeB.ports.httpsPort, name, stack.rootPem)).serial).toBe(first.serial);
        // The renewal time is settled once the CA's window (or its absence) is known.
        await until('the renewal is scheduled', () => issuer.logs('renewal scheduled').some((r) => r.domain === name), 10_000, 50);
        // Read from the store at once (the CLI's node start-up would take seconds, and with ARI the
        // renewal may come any moment now).
        const redis = stack.redis.client();
        const stored = await createStore(redis, stack.prefix, { keyring: stack.keyring }).certificates.get(name);
        redis.disconnect();
        expect(normalSerial(stored?.serial ?? '')).toBe(first.serial);
        const shown = { notBefore: stored!.notBefore, notAfter: stored!.notAfter, renewAt: stored!.renewAt! };
        const lifetime = shown.notAfter - shown.notBefore;
        expect(lifetime).toBeLessThanOrEqual(validitySeconds * 1000);
        const scheduled = issuer.logs('renewal scheduled').find((r) => r.domain === name) as {
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

        // The renewal, as the issuer logs it: before expiry, and no earlier than scheduled (within a
        // renewer tick and the order's time).
        const renewedLine = await issuer.waitForLine(
          (line) => line.includes('"msg":"certificate renewed"') && line.includes(`"domain":"${name}"`),
          Math.max(1, shown.notAfter - Date.now()),
          `the renewal of ${name} before it expires`,
        );
        const renewedAt = JSON.parse(renewedLine) as { time: string };
        expect(Date.parse(renewedAt.time)).toBeGreaterThanOrEqual(shown.renewAt);
        // Both edges serve the new certificate, before the old one expires and without a restart.
        const renewed = await until(
          'edge A serves the renewed certificate',
          async () => {
            const served = await handshake(edgeA.ports.httpsPort, name, stack.rootPem);
            return served.serial !== first.serial && served;
          },
          Math.max(1, shown.notAfter - Date.now()),
          100,
        );
        expect(Date.now()).toBeLessThan(shown.notAfter);
        expect(renewed.authorized).toBe(true);
        await stack.pebble.waitForIssued(renewed.serial);
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

        // The name that left was not renewed: retired at its renewal point, still served until it expires.
        await issuer.waitForLine(
          (line) =>
            line.includes('"msg":"certificate retired: not renewed, kept until it expires"') && line.includes(`"domain":"${leaving}"`),
          validitySeconds * 1000,
          `the retirement of ${leaving}`,
        );
        const list = JSON.parse((await cli(['certs', 'ls', '--state', 'retired', '--json'], stack.env)).stdout) as {
          name: string;
          retiredReason?: string;
        }[];
        const retired = list.find((c) => c.name === leaving);
        expect(retired?.retiredReason).toMatch(/^no longer allowed/);
        expect(ordersFor(stack.pebble, leaving)).toBe(1);
        const stillServed = await handshake(edgeB.ports.httpsPort, leaving, stack.rootPem);
        if (Date.now() < shown.notAfter - 1_000) expect(stillServed.serial).toBe(leavingFirst.serial);
        const active = JSON.parse((await cli(['certs', 'ls', '--state', 'active', '--json'], stack.env)).stdout) as { name: string }[];
        expect(active.map((c) => c.name)).toEqual([name]);
        // Neither edge restarted to pick it up.
        expect(stack.edges.every((edge) => edge.proc.alive && edge.proc.logs('edge listening').length === 1)).toBe(true);
      },
      60_000 + validitySeconds * 2_000,
    );
  });
}
