import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAskEndpoint } from '../support/ask-endpoint.js';
import { cli, edgeEnv, edgePorts, metric, newPrefix, startRole, type EdgePorts } from '../support/certfleet.js';
import { ordersFor } from '../support/pebble.js';
import type { Proc } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake } from '../support/tls-client.js';
import { issueQueue } from '../support/queue.js';
import { until } from '../support/wait.js';

const FALLBACK = 'DNS:certfleet-fallback.invalid';
const TIMEOUT_MS = 500;

/** The ask policy against a local endpoint, with Caddy's contract: 2xx allows, anything else denies. */
describe('ask policy', () => {
  let stack: Stack;
  let ask: Awaited<ReturnType<typeof startAskEndpoint>>;
  beforeAll(async () => {
    ask = await startAskEndpoint({ slowMs: 3_000 });
    stack = await startStack({
      edges: 2,
      env: {
        ALLOW_POLICY: 'ask',
        ALLOW_ASK_URL: ask.url,
        ALLOW_ASK_TIMEOUT: `${TIMEOUT_MS}ms`,
        ALLOW_ASK_ALLOW_TTL: '2s',
        ALLOW_ASK_DENY_TTL: '60s',
        ALLOW_ASK_MAX_STALE: '600s',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await ask?.close();
  });
  const edge = (i: number) => stack.edges[i % stack.edges.length]!.ports;
  const explain = async (name: string, env: NodeJS.ProcessEnv = {}) =>
    (await cli(['domains', 'check', name], { ...stack.env, ...env })).stdout.trim();

  it('issues for a name the endpoint allows, asking it once for 40 handshakes on two edges', async () => {
    const name = 'yes.customer.example';
    ask.set(name, 'allow');
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => handshake(edge(i).httpsPort, name, stack.rootPem)));
    expect(results.every((r) => r.authorized)).toBe(true);
    expect(ask.calls(name)).toBe(1);
    await stack.pebble.waitForIssued(results[0]?.serial ?? '');
    expect(ordersFor(stack.pebble, name)).toBe(1);
  });

  it('serves the fallback to a name the endpoint denies, asks once per deny TTL, and orders nothing', async () => {
    const name = 'no.customer.example';
    ask.set(name, 'deny');
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => handshake(edge(i).httpsPort, name)));
    for (let i = 0; i < 10; i += 1) burst.push(await handshake(edge(i).httpsPort, name));
    expect(burst.every((r) => r.subjectaltname === FALLBACK)).toBe(true);
    expect(ask.calls(name)).toBe(1);
    expect(ordersFor(stack.pebble, name)).toBe(0);
    expect(await explain(name)).toBe(`${name}: denied by ask: the ask endpoint answered 403`);
    expect(
      (await metric(edge(0).metricsPort, 'certfleet_policy_decisions_total', { policy: 'ask', outcome: 'deny' })) +
        (await metric(edge(1).metricsPort, 'certfleet_policy_decisions_total', { policy: 'ask', outcome: 'deny' })),
    ).toBe(1);
  });

  it('denies when the endpoint does not answer in time', async () => {
    const name = 'slow.customer.example';
    ask.set(name, 'slow');
    const result = await handshake(edge(0).httpsPort, name);
    expect(result.subjectaltname).toBe(FALLBACK);
    expect(ordersFor(stack.pebble, name)).toBe(0);
    expect(await explain(name)).toBe(
      `${name}: denied by ask: the ask endpoint did not answer within ${TIMEOUT_MS} ms, and no answer from the last 600 s`,
    );
  });

  it('uses a recent answer while the endpoint is down, and denies names it never answered', async () => {
    const kept = 'kept.customer.example';
    ask.set(kept, 'allow');
    expect((await handshake(edge(1).httpsPort, kept, stack.rootPem)).authorized).toBe(true);
    await ask.down();
    try {
      // Past the allow TTL (2 s) of the answer: the endpoint must be asked again, and cannot be.
      // A fixed time is the point (the answer must age), counted from when it was given.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, (ask.lastCalledAt(kept) ?? 0) + 2_200 - Date.now())));
      expect(await explain(kept)).toMatch(
        new RegExp(
          `^${kept}: allowed by ask: the ask endpoint answered 200 \\(\\d+ s ago; now: the ask endpoint is unreachable.*\\) \\[stale\\]$`,
        ),
      );
      const never = 'never.customer.example';
      ask.set(never, 'allow');
      expect((await handshake(edge(0).httpsPort, never)).subjectaltname).toBe(FALLBACK);
      expect(await explain(never)).toMatch(
        new RegExp(`^${never}: denied by ask: the ask endpoint is unreachable.*no answer from the last 600 s$`),
      );
      expect(ordersFor(stack.pebble, never)).toBe(0);
    } finally {
      await ask.up();
    }
  });

  describe('abuse limits', () => {
    type ExtraEdge = { ports: EdgePorts; proc: Proc; prefix: string };
    let limits: ExtraEdge;
    let waiting: ExtraEdge;
    let pending: ExtraEdge;
    // An edge of its own per case, on a prefix no issuer serves (an allowed name's job waits its
    // full EDGE_ISSUE_WAIT); the three start together.
    const extraEdge = async (label: string, extra: NodeJS.ProcessEnv): Promise<ExtraEdge> => {
      const ports = await edgePorts();
      const env = { CERTFLEET_PREFIX: newPrefix(label), ...extra };
      const proc = await startRole('edge', { ...stack.env, ...edgeEnv(ports), ...env }, `edge-${label}-${stack.prefix}`);
      return { ports, proc, prefix: env.CERTFLEET_PREFIX };
    };
    beforeAll(async () => {
      [limits, waiting, pending] = await Promise.all([
        extraEdge('limits', { EDGE_NEW_NAME_LIMIT_PER_IP: '3/60s' }),
        extraEdge('waiting', { EDGE_ISSUE_WAIT: '1500ms', EDGE_MAX_WAITING_HANDSHAKES: '1' }),
        extraEdge('pending', { EDGE_ISSUE_WAIT: '1500ms', EDGE_MAX_PENDING_ISSUES: '1' }),
      ]);
    });
    afterAll(async () => {
      await Promise.all([limits, waiting, pending].map((edge) => edge?.proc.stop()));
    });

    it('evaluates at most the per-IP bucket of new names, then serves the fallback at once', async () => {
      const { ports } = limits;
      const names = Array.from({ length: 6 }, (_, i) => `scan-${i}.customer.example`);
      for (const name of names) expect((await handshake(ports.httpsPort, name)).subjectaltname).toBe(FALLBACK);
      expect(names.map((name) => ask.calls(name))).toEqual([1, 1, 1, 0, 0, 0]);
      // One process: its own copy of the client's bucket refuses first, from memory, before Redis's.
      expect(await metric(ports.metricsPort, 'certfleet_edge_limited_total', { limit: 'new_names_per_ip_local' })).toBe(3);
    });

    it('caps handshakes waiting: over the cap, the fallback at once, nothing evaluated', async () => {
      const { ports } = waiting;
      ask.set('wait-1.customer.example', 'allow');
      ask.set('wait-2.customer.example', 'allow');
      const first = handshake(ports.httpsPort, 'wait-1.customer.example');
      // Asked about, so waiting in the handshake (then for its job, EDGE_ISSUE_WAIT).
      await until('the first handshake waiting', () => ask.calls('wait-1.customer.example') === 1, 10_000, 20);
      const second = await handshake(ports.httpsPort, 'wait-2.customer.example');
      expect(second.subjectaltname).toBe(FALLBACK);
      expect(ask.calls('wait-2.customer.example')).toBe(0);
      expect(await metric(ports.metricsPort, 'certfleet_edge_limited_total', { limit: 'waiting_handshakes' })).toBe(1);
      expect((await first).subjectaltname).toBe(FALLBACK);
    });

    it('caps names waiting for issuance: over the cap, the fallback at once, no job', async () => {
      const { ports, prefix } = pending;
      ask.set('pending-1.customer.example', 'allow');
      ask.set('pending-2.customer.example', 'allow');
      const queue = issueQueue(stack.redis.port, prefix);
      try {
        const jobNames = async () => (await queue.getJobs(['prioritized', 'waiting'])).map((job) => job.data.name);
        const first = handshake(ports.httpsPort, 'pending-1.customer.example');
        // Its job enqueued, so the first name is pending (for EDGE_ISSUE_WAIT).
        await until('the first name pending', async () => (await jobNames()).length === 1, 10_000, 20);
        const second = await handshake(ports.httpsPort, 'pending-2.customer.example');
        expect(second.subjectaltname).toBe(FALLBACK);
        // Allowed, but never enqueued: only the first name has a job.
        expect(ask.calls('pending-2.customer.example')).toBe(1);
        expect(await jobNames()).toEqual(['pending-1.customer.example']);
        expect(await metric(ports.metricsPort, 'certfleet_edge_limited_total', { limit: 'pending_issues' })).toBe(1);
        expect((await first).subjectaltname).toBe(FALLBACK);
      } finally {
        await queue.close();
      }
    });
  });
});
