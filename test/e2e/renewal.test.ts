import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startRole } from '../support/certfleet.js';
import { ordersFor } from '../support/pebble.js';
import type { Proc } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake } from '../support/tls-client.js';

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

  it('renews before expiry, and the edges serve the new serial without a restart', async () => {
    const name = 'renew.example.com';
    expect((await cli(['domains', 'add', name], stack.env)).code).toBe(0);
    const [edgeA, edgeB] = stack.edges as [Stack['edges'][number], Stack['edges'][number]];
    const first = await handshake(edgeA.ports.httpsPort, name, stack.rootPem);
    expect(first.authorized).toBe(true);
    const shown = JSON.parse((await cli(['certs', 'show', name, '--json'], stack.env)).stdout) as {
      notBefore: number;
      notAfter: number;
      renewAt: number;
    };
    expect(shown.notAfter - shown.notBefore).toBeLessThanOrEqual(120_000);
    // The renewal index says: renew when a third of the lifetime remains.
    expect(Math.abs(shown.renewAt - (shown.notAfter - (shown.notAfter - shown.notBefore) / 3))).toBeLessThan(1_000);
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
    // Neither edge restarted to pick it up.
    expect(stack.edges.every((edge) => edge.proc.alive && edge.proc.logs('edge listening').length === 1)).toBe(true);
  }, 180_000);
});
