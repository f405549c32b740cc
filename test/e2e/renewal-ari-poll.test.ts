import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/certfleet.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake } from '../support/tls-client.js';
import { until } from '../support/wait.js';

interface Shown {
  serial: string;
  notBefore: number;
  notAfter: number;
  ariId: string;
  renewAt: number;
  nextAriPollAt: number | null;
}

const MINUTE = 60_000;
/** ISSUER_ARI_MIN_RETRY here: the floor on a CA's Retry-After (a minute by default). */
const MIN_RETRY = 5_000;

/**
 * RFC 9773 4.3: the renewal window is asked for again as the CA's Retry-After says (clamped to
 * ISSUER_ARI_MIN_RETRY .. 1 day), and a window that moved moves the renewal. Pebble 2.6 gives a one-hour
 * certificate; the proxy in front answers the first poll with a window 30-40 min ahead and asks
 * the client to come back after 1 s (clamped to ISSUER_ARI_MIN_RETRY, 5 s here), then answers the second poll as a CA
 * would after a revocation: renew now.
 *
 * The first window is the proxy's, not Pebble's: Pebble 2.6 suggests its ideal point plus or
 * minus a day, which for a one-hour certificate reaches from the past to past its expiry, so
 * the renewal fell anywhere in the next 54 minutes: within 10 minutes about 1 run in 5 (and
 * before the second poll about 1 in 50), which this test then failed.
 */
describe('ARI re-polling', () => {
  let stack: Stack;
  const moved: { start: number; end: number }[] = [];

  beforeAll(async () => {
    stack = await startStack({
      edges: 1,
      issuers: 1,
      renewer: true,
      proxy: true,
      validitySeconds: 3_600,
      env: { RENEW_TICK: '1s', ISSUER_ARI_POLL_TICK: '1s', ISSUER_ARI_MIN_RETRY: '5s', EDGE_ISSUE_WAIT: '30s' },
      beforeRoles: async ({ proxy }) => {
        proxy!.addRule({
          kind: 'renewalInfo',
          times: 1,
          setHeaders: { 'retry-after': '1' },
          rewriteJson: (body) => {
            const start = Date.now() + 30 * MINUTE;
            const end = Date.now() + 40 * MINUTE;
            return { ...body, suggestedWindow: { start: new Date(start).toISOString(), end: new Date(end).toISOString() } };
          },
        });
        proxy!.addRule({
          kind: 'renewalInfo',
          times: 1,
          setHeaders: { 'retry-after': '86400' },
          rewriteJson: (body) => {
            const start = Date.now() - MINUTE;
            // A short window: the renewal is picked inside it, so the test waits at most this long for it.
            const end = Date.now() + 5_000;
            moved.push({ start, end });
            return { ...body, suggestedWindow: { start: new Date(start).toISOString(), end: new Date(end).toISOString() } };
          },
        });
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const show = async (name: string) => JSON.parse((await cli(['certs', 'show', name, '--json'], stack.env)).stdout) as Shown;

  it('polls again after the clamped Retry-After, follows a window that moved, and renews early with replaces', async () => {
    const name = 'repoll.example.com';
    expect((await cli(['domains', 'add', name], stack.env)).code).toBe(0);
    const first = await handshake(stack.edges[0]!.ports.httpsPort, name, stack.rootPem);
    expect(first.authorized).toBe(true);
    const scheduled = await until(
      'the first window is known',
      async () => {
        const shown = await show(name);
        return shown.nextAriPollAt !== null && shown;
      },
      20_000,
      250,
    );
    // Retry-After: 1 is clamped to ISSUER_ARI_MIN_RETRY; the first window puts the renewal far ahead.
    expect(scheduled.nextAriPollAt! - scheduled.notBefore).toBeGreaterThanOrEqual(MIN_RETRY - 2_000);
    expect(scheduled.renewAt).toBeGreaterThan(Date.now() + 10 * MINUTE);
    const polls = () => stack.proxy!.records().filter((r) => r.kind === 'renewalInfo' && r.path.endsWith(`/${scheduled.ariId}`));
    expect(polls()).toHaveLength(1);

    // The second answer (after the floor) moves the window to now: the renewal follows it.
    const rescheduled = (await until(
      'the renewal is rescheduled',
      () => stack.issuers[0]!.logs('renewal window moved; renewal rescheduled').find((r) => r.domain === name),
      2 * MINUTE,
      250,
    )) as { time: string; renewAt: string };
    const secondPoll = polls()[1];
    expect(secondPoll).toBeDefined();
    expect(secondPoll!.at).toBeGreaterThanOrEqual(scheduled.nextAriPollAt! - 1_000);
    const window = moved[0]!;
    // Inside the new window, and not in the past when it was picked.
    expect(Date.parse(rescheduled.renewAt)).toBeGreaterThanOrEqual(Math.max(window.start, secondPoll!.at - 1_000));
    expect(Date.parse(rescheduled.renewAt)).toBeLessThanOrEqual(window.end);

    // Renewed at the new time, long before the first window, naming the certificate it replaces.
    const renewed = await until(
      'the certificate is renewed',
      async () => {
        const shown = await show(name);
        return shown.serial !== scheduled.serial && shown;
      },
      MINUTE,
      500,
    );
    expect(Date.now()).toBeLessThan(scheduled.renewAt);
    const renewal = stack
      .proxy!.newOrders()
      .map((r) => r.payload as { identifiers: { value: string }[]; replaces?: string })
      .filter((o) => o.identifiers[0]?.value === name)[1];
    expect(renewal?.replaces).toBe(scheduled.ariId);
    // The old certificate is no longer polled: two answers, two requests, none per tick.
    expect(polls()).toHaveLength(2);
    // The new certificate gets its own window and poll, a day ahead at most.
    const next = await until(
      'the new certificate is polled',
      async () => {
        const shown = await show(name);
        return shown.ariId !== scheduled.ariId && shown.nextAriPollAt !== null && shown;
      },
      20_000,
      250,
    );
    expect(next.nextAriPollAt!).toBeLessThanOrEqual(Date.now() + 86_400_000);
    expect(renewed.serial).not.toBe(scheduled.serial);
    expect((await handshake(stack.edges[0]!.ports.httpsPort, name, stack.rootPem)).serial).not.toBe(first.serial);
  }, 240_000);
});
