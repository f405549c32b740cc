import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startRole } from '../support/certfleet.js';
import type { Proc } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake } from '../support/tls-client.js';
import { until } from '../support/wait.js';

const SHORT_SECONDS = 600;
const DEFAULT_SECONDS = 7_776_000;

interface Shown {
  notBefore: number;
  notAfter: number;
}

/**
 * ACME profiles (draft-aaron-acme-profiles) against a Pebble that lists two in its directory,
 * each with its own certificate lifetime. Pebble 2.6 has no profiles: this suite runs Debian
 * sid's Pebble 2.10 (see pebbleWithProfilesBinDir). The proxy in front records each order.
 */
describe('ACME profiles', () => {
  let stack: Stack;
  let unlisted: Proc | undefined;

  beforeAll(async () => {
    stack = await startStack({
      edges: 1,
      issuers: 1,
      proxy: true,
      pebble: {
        profiles: {
          default: { description: 'the default profile', validityPeriod: DEFAULT_SECONDS },
          shortlived: { description: 'short-lived certificates', validityPeriod: SHORT_SECONDS },
        },
      },
      env: { ACME_PROFILE: 'shortlived', EDGE_ISSUE_WAIT: '20s', EDGE_HANDSHAKE_TIMEOUT: '30s' },
    });
  });
  afterAll(async () => {
    await unlisted?.stop();
    await stack?.stop();
  });

  const lifetimeOf = async (name: string) => {
    const shown = JSON.parse((await cli(['certs', 'show', name, '--json'], stack.env)).stdout) as Shown;
    return (shown.notAfter - shown.notBefore) / 1000;
  };
  const orderFor = (name: string) =>
    stack
      .proxy!.newOrders()
      .map((r) => r.payload as { identifiers: { value: string }[]; profile?: string })
      .find((o) => o.identifiers[0]?.value === name);

  it('asks for the configured profile when the CA lists it, and the certificates live as the profile says', async () => {
    // Pebble picks one of its profiles at random for an order that names none: three names, all
    // short-lived, are the profile's doing, not chance.
    const names = ['short-a.example.com', 'short-b.example.com', 'short-c.example.com'];
    expect((await cli(['domains', 'add', ...names], stack.env)).code).toBe(0);
    expect(stack.issuers[0]!.logs('ACME profile available')).toHaveLength(1);
    for (const name of names) {
      expect((await handshake(stack.edges[0]!.ports.httpsPort, name, stack.rootPem)).authorized).toBe(true);
      expect(orderFor(name)?.profile).toBe('shortlived');
      const lifetime = await lifetimeOf(name);
      expect(lifetime).toBeGreaterThan(SHORT_SECONDS - 120);
      expect(lifetime).toBeLessThanOrEqual(SHORT_SECONDS);
    }
  });

  it('says at start-up that a configured profile is not listed, and orders without it', async () => {
    // Another issuer configured with a profile this CA does not offer; the first one stops.
    unlisted = await startRole('issuer', { ...stack.env, ACME_PROFILE: 'tlsserver' }, `issuer-${stack.prefix}-unlisted`);
    const [complaint] = unlisted.logs('ACME profile not offered by the CA; orders go without a profile') as {
      level: number;
      hint: string;
    }[];
    expect(complaint?.hint).toMatch(
      /CA "default" does not list the ACME profile "tlsserver".*it lists: default, shortlived.*set ACME_PROFILE/,
    );
    expect(complaint?.level).toBe(50);
    await stack.issuers[0]!.stop();

    const name = 'plain.example.com';
    expect((await cli(['domains', 'add', name], stack.env)).code).toBe(0);
    expect((await handshake(stack.edges[0]!.ports.httpsPort, name, stack.rootPem)).authorized).toBe(true);
    await until('the order is recorded', () => orderFor(name), 5_000, 50);
    expect(orderFor(name)).not.toHaveProperty('profile');
    // With no profile named, Pebble picks one of its own at random (a real CA uses its default).
    const lifetime = await lifetimeOf(name);
    expect([SHORT_SECONDS, DEFAULT_SECONDS].some((seconds) => lifetime > seconds - 120 && lifetime <= seconds)).toBe(true);
  });
});
