import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startRole } from '../support/certfleet.js';
import { ordersFor } from '../support/pebble.js';
import type { Proc } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake } from '../support/tls-client.js';
import { until } from '../support/wait.js';

/**
 * Pebble issues 2-minute certificates here, so a renewal at the one-third point happens about
 * 80 s after issuance, in real time, through the real renewer, issuer and edges.
 */
describe('renewal of a short-lived certificate', () => {
  let stack: Stack;
  let secondRenewer: Proc;

  beforeAll(async () => {
    stack = await startStack({ edges: 2, issuers: 1, renewer: true, validitySeconds: 120, env: { RENEW_TICK_MS: '1000' } });
    // Renewers can run in any number: a fleet-wide lease lets one tick run at a time.
    secondRenewer = await startRole('renewer', { ...stack.env, RENEW_TICK_MS: '1000' }, `renewer-${stack.prefix}-b`);
  });
  afterAll(async () => {
    await secondRenewer?.stop();
    await stack?.stop();
  });

  it('renews before expiry, and the edges serve the new serial without a restart; a name that left is retired', async () => {
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
    const shown = JSON.parse((await cli(['certs', 'show', name, '--json'], stack.env)).stdout) as {
      notBefore: number;
      notAfter: number;
      renewAt: number;
    };
    expect(shown.notAfter - shown.notBefore).toBeLessThanOrEqual(120_000);
    // The renewal index says: renew when half the lifetime remains (under ten days of lifetime),
    // up to 5 % earlier by a per-name jitter.
    const lifetime = shown.notAfter - shown.notBefore;
    expect(shown.renewAt).toBeLessThanOrEqual(shown.notAfter - lifetime * 0.5 + 1);
    expect(shown.renewAt).toBeGreaterThanOrEqual(shown.notAfter - lifetime * 0.55 - 1);
    expect((await handshake(edgeB.ports.httpsPort, name, stack.rootPem)).serial).toBe(first.serial);

    let renewed = first;
    while (renewed.serial === first.serial && Date.now() < shown.notAfter) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      renewed = await handshake(edgeA.ports.httpsPort, name, stack.rootPem);
    }
    expect(Date.now()).toBeLessThan(shown.notAfter);
    expect(renewed.serial).not.toBe(first.serial);
    expect(renewed.authorized).toBe(true);
    await stack.pebble.waitForIssued(renewed.serial);
    expect((await handshake(edgeB.ports.httpsPort, name, stack.rootPem)).serial).toBe(renewed.serial);
    // One issuance, one renewal: two renewers did not renew twice.
    expect(ordersFor(stack.pebble, name)).toBe(2);
    expect(stack.issuers[0]?.logs('certificate renewed').length).toBe(1);
    // The name that left was not renewed: retired, still served until it expires.
    const retired = await until(
      'the name that left is retired',
      async () => {
        const list = JSON.parse((await cli(['certs', 'ls', '--state', 'retired', '--json'], stack.env)).stdout) as { name: string; retiredReason?: string }[];
        return list.find((c) => c.name === leaving);
      },
      30_000,
      500,
    );
    expect(retired.retiredReason).toMatch(/^no longer allowed/);
    expect(ordersFor(stack.pebble, leaving)).toBe(1);
    expect((await handshake(edgeB.ports.httpsPort, leaving, stack.rootPem)).serial).toBe(leavingFirst.serial);
    const active = JSON.parse((await cli(['certs', 'ls', '--state', 'active', '--json'], stack.env)).stdout) as { name: string }[];
    expect(active.map((c) => c.name)).toEqual([name]);
    // Neither edge restarted to pick it up.
    expect(stack.edges.every((edge) => edge.proc.alive && edge.proc.logs('edge listening').length === 1)).toBe(true);
  }, 180_000);
});
