import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { describeHostname } from '@certfleet/hostnames';
import { createWebhookQueue, webhookJobId } from '@certfleet/queue';
import { createStore } from '@certfleet/store';
import { createLogger } from '@certfleet/observability';
import { createWebhookPublisher, eventId, receiverId, verifySignature, type WebhookEvent } from '@certfleet/webhooks';
import { hideRenewalInfo } from '../support/acme-proxy.js';
import { cli, metric, startRole } from '../support/certfleet.js';
import { freePort, type Proc } from '../support/processes.js';
import { queueConnection } from '../support/queue.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake } from '../support/tls-client.js';
import { until } from '../support/wait.js';

const SECRET = 'a-webhook-secret-for-the-e2e-test';
const API_TOKEN = 'an-api-token-for-the-webhook-tests';
const DASHBOARD_TOKEN = 'a-dashboard-token-for-webhook-tests';

/** One delivery as a receiver saw it: what it answered, and whether the signature held. */
interface Received {
  status: number;
  event: WebhookEvent;
  signatureValid: boolean;
  eventIdHeader: string | undefined;
}

/** How a receiver misbehaves, besides answering a status: never answers, redirects, or sends a body without end. */
type Answer = number | 'hang' | 'redirect' | 'giant';

/** Bytes a giant answer offers: far more than certfleet may read. */
const GIANT_BYTES = 64 * 1024 * 1024;

/**
 * A receiver on loopback that verifies every signature against the raw body and answers by
 * `answer` (given how many times it saw the event's id before).
 */
async function startReceiver(answer: (seenBefore: number) => Answer) {
  const received: Received[] = [];
  const misbehaved = { hangs: 0, redirects: 0, giants: 0, giantBytesWritten: 0 };
  const paths: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      paths.push(req.url ?? '');
      const raw = Buffer.concat(chunks);
      const event = JSON.parse(raw.toString()) as WebhookEvent;
      const check = verifySignature(SECRET, req.headers['certfleet-signature'] as string | undefined, raw, 300);
      const how = answer(received.filter((r) => r.event.id === event.id).length);
      const status = how === 'hang' ? 0 : how === 'redirect' ? 307 : how === 'giant' ? 500 : how;
      received.push({ status, event, signatureValid: check.valid, eventIdHeader: req.headers['certfleet-event-id'] as string | undefined });
      if (how === 'hang') misbehaved.hangs += 1;
      else if (how === 'redirect') {
        misbehaved.redirects += 1;
        res.writeHead(307, { location: `${url}?redirected` }).end();
      } else if (how === 'giant') {
        misbehaved.giants += 1;
        res.writeHead(500);
        const chunk = Buffer.alloc(64 * 1024, 120);
        let written = 0;
        // Writes while the client reads; stops when its buffers are full and it stopped reading.
        const pump = () => {
          while (written < GIANT_BYTES) {
            written += chunk.length;
            misbehaved.giantBytesWritten += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      } else res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return {
    url,
    received,
    misbehaved,
    paths,
    /** Events this receiver accepted (answered 2xx), by type and hostname. */
    accepted: (type: string, hostname?: string) =>
      received.filter(
        (r) => r.status >= 200 && r.status < 300 && r.event.type === type && (hostname === undefined || r.event.data.hostname === hostname),
      ),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/**
 * Real processes (redis, Pebble behind the ACME proxy, an edge, an issuer, a renewer) with three
 * receivers: one that accepts everything, one that fails each event's first delivery, one that
 * always fails. 45-second certificates (renewal about 30 s after issuance; ARI hidden), a 1-day
 * expiring window (so every certificate is "expiring" at once), retries from 200 ms for 3 s.
 */
describe('signed webhooks', () => {
  let stack: Stack;
  let redis: Redis;
  let dashboard: Proc;
  let dashboardPort: number;
  let metricsPort: number;
  let ok: Receiver;
  let flaky: Receiver;
  let broken: Receiver;
  /** The WEBHOOK_* settings of every role, and of the CLI (its domains commands publish too). */
  let webhooks: Record<string, string>;
  const cliEnv = () => ({ ...stack.env, ...webhooks });

  beforeAll(async () => {
    [ok, flaky, broken] = await Promise.all([
      startReceiver(() => 200),
      startReceiver((seenBefore) => (seenBefore === 0 ? 500 : 204)),
      // Each event: no answer at all, then a redirect, then an endless 500 body, then 503s until given up.
      startReceiver((seenBefore) => (['hang', 'redirect', 'giant'] as const)[seenBefore] ?? 503),
    ]);
    metricsPort = await freePort();
    webhooks = {
      // Credentials in a receiver URL must be accepted and never logged.
      WEBHOOK_URLS: [ok.url, flaky.url.replace('http://', 'http://hook:hunter22@'), broken.url].join(','),
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_BACKOFF: '200ms',
      WEBHOOK_RETRY_FOR: '3s',
      WEBHOOK_TIMEOUT: '2s',
      WEBHOOK_EXPIRING_DAYS: '1',
    };
    stack = await startStack({
      edges: 1,
      issuers: 1,
      renewer: true,
      proxy: true,
      validitySeconds: 45,
      env: {
        RENEW_TICK: '1s',
        EDGE_ISSUE_WAIT: '30s',
        EDGE_HANDSHAKE_TIMEOUT: '40s',
      },
      roleEnv: {
        issuer: { ...webhooks, ISSUER_METRICS_PORT: String(metricsPort), ISSUER_METRICS_BIND: '127.0.0.1' },
        renewer: webhooks,
      },
      beforeRoles: async ({ proxy }) => hideRenewalInfo(proxy),
    });
    redis = new Redis(stack.redis.port, '127.0.0.1');
    // The hostname API publishes hostname.created / hostname.deleted.
    dashboardPort = await freePort();
    dashboard = await startRole('dashboard', {
      ...stack.env,
      ...webhooks,
      DASHBOARD_PORT: String(dashboardPort),
      DASHBOARD_BIND: '127.0.0.1',
      DASHBOARD_TOKEN,
      API_TOKEN,
    });
  });
  afterAll(async () => {
    redis?.disconnect();
    await dashboard?.stop();
    await stack?.stop();
    await Promise.all([ok?.close(), flaky?.close(), broken?.close()]);
  });

  it('delivers issued, failed, expiring, renewed and retired events, signed, once per id, retrying a receiver that failed', async () => {
    const staying = 'staying.example.com';
    const leaving = 'leaving.example.com';
    const unreachable = 'unreachable.example.com';
    // Pebble validates http-01 for this one at 127.0.0.2, where nothing listens.
    await stack.pebble.challtest('add-a', { host: `${unreachable}.`, addresses: ['127.0.0.2'] });
    expect((await cli(['domains', 'add', staying, leaving, unreachable], cliEnv())).code).toBe(0);
    // The CLI's domains commands go through the hostname service, events included.
    await until('hostname.created from the CLI', () =>
      [staying, leaving, unreachable].every((name) => ok.accepted('hostname.created', name).length === 1),
    );
    const port = stack.edges[0]!.ports.httpsPort;
    const [first] = await Promise.all([
      handshake(port, staying, stack.rootPem),
      handshake(port, leaving, stack.rootPem),
      handshake(port, unreachable),
    ]);
    expect(first?.authorized).toBe(true);

    // certificate.issued for each, with the hostname object of the certificate served.
    const issued = await until(
      'certificate.issued for both names',
      () => {
        const events = [staying, leaving].map((name) => ok.accepted('certificate.issued', name)[0]);
        return events.every((e) => e !== undefined) ? events : undefined;
      },
      60_000,
    );
    const store = createStore(redis, stack.prefix);
    const stayingCert = await store.certificates.describe(staying);
    expect(issued[0]?.event.data).toMatchObject({
      hostname: staying,
      status: 'active',
      certificate: { status: 'active', serial: stayingCert?.serial, not_after: new Date(stayingCert!.notAfter).toISOString() },
    });
    // The id is derived from type, name and serial: any process publishing it again gets the same.
    expect(issued[0]?.event.id).toBe(eventId('certificate.issued', staying, stayingCert?.serial));
    expect(issued[0]?.eventIdHeader).toBe(issued[0]?.event.id);

    // certificate.failed with the CA's reason, once the validation at 127.0.0.2 failed.
    const failed = await until('certificate.failed', () => ok.accepted('certificate.failed', unreachable)[0], 60_000);
    expect(failed.event.data).toMatchObject({ hostname: unreachable, status: 'failed', cooldown_until: expect.any(String) });
    expect(failed.event.data.validation_errors[0]).toMatchObject({
      type: expect.stringMatching(/^urn:ietf:params:acme:error:/),
      detail: expect.stringContaining('127.0.0.2'),
    });

    // certificate.expiring (the window is a day: every 45-second certificate is in it).
    await until('certificate.expiring for both names', () =>
      [staying, leaving].every((name) => ok.accepted('certificate.expiring', name).length > 0),
    );

    // The name that left is retired at once (domains rm goes through the hostname service); the other is renewed.
    expect((await cli(['domains', 'rm', leaving], cliEnv())).code).toBe(0);
    const [renewed, retired] = await until(
      'certificate.renewed and certificate.retired',
      () => {
        const events = [ok.accepted('certificate.renewed', staying)[0], ok.accepted('certificate.retired', leaving)[0]];
        return events.every((e) => e !== undefined) ? events : undefined;
      },
      90_000,
    );
    expect(renewed?.event.data.certificate.serial).not.toBe(stayingCert?.serial);
    expect(retired?.event.data).toMatchObject({ hostname: leaving });
    // The renewed certificate's own expiring event: one per (name, notAfter).
    await until('certificate.expiring for the renewed certificate', () => {
      const notAfters = new Set(ok.accepted('certificate.expiring', staying).map((r) => r.event.data.certificate.not_after));
      return notAfters.size === 2;
    });

    // Publishing an event again (as a retried issuance job would) queues nothing new.
    const queue = createWebhookQueue(queueConnection(stack.redis.port, stack.prefix));
    let idsAtOk = new Set<string>();
    try {
      const again = createWebhookPublisher({
        queue,
        urls: [ok.url],
        describe: (name) => describeHostname(store, name),
        logger: createLogger({ role: 'test', level: 'silent' }),
      });
      await again.publish('certificate.issued', staying, stayingCert?.serial);
      const job = await queue.getJob(webhookJobId(issued[0]!.event.id, receiverId(ok.url)));
      expect(await job?.getState()).toBe('completed');

      // The receiver that failed each first delivery got every event again and accepted it; the
      // broken one's deliveries were given up and stay failed (in bull-board).
      idsAtOk = new Set(ok.received.map((r) => r.event.id));
      await until('every event delivered to the flaky receiver after a retry', () =>
        [...idsAtOk].every((id) => flaky.received.some((r) => r.event.id === id && r.status === 204)),
      );
      await until('deliveries to the broken receiver given up', async () => (await queue.getJobCountByTypes('failed')) > 0);
      // ... where an operator sees them: the dashboard's bull-board, with the redacted receiver and the reason.
      const board = await fetch(
        `http://127.0.0.1:${dashboardPort}/queues/api/queues?activeQueue=webhooks&status=failed&page=1&jobsPerPage=50`,
        {
          headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` },
        },
      );
      expect(board.status).toBe(200);
      const boardBody = (await board.json()) as {
        queues: { name: string; counts: Record<string, number>; jobs: { data: { receiverShown: string }; failedReason: string }[] }[];
      };
      const webhooksBoard = boardBody.queues.find((q) => q.name === 'webhooks');
      expect(webhooksBoard?.counts.failed).toBeGreaterThan(0);
      expect(webhooksBoard?.jobs[0]).toMatchObject({
        data: { receiverShown: broken.url },
        failedReason: expect.stringContaining('answered 503'),
      });
      expect(JSON.stringify(boardBody)).not.toContain('hunter22');
    } finally {
      await queue.close();
    }

    // Every delivery was signed with the secret, and went to the URL configured (no redirect followed);
    // each event accepted once per id per receiver.
    for (const receiver of [ok, flaky, broken]) {
      expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
      expect(new Set(receiver.paths)).toEqual(new Set(['/hooks']));
    }
    for (const receiver of [ok, flaky]) {
      const accepted = receiver.received.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.event.id);
      expect(accepted.length).toBe(new Set(accepted).size);
    }
    const flakyFirsts = new Map<string, number>();
    for (const r of flaky.received) if (!flakyFirsts.has(r.event.id)) flakyFirsts.set(r.event.id, r.status);
    expect([...flakyFirsts.values()].every((status) => status === 500)).toBe(true);
    // The broken receiver saw its events more than once (retried), never accepted one: a hang cut at
    // WEBHOOK_TIMEOUT, a redirect not followed (nobody came back with ?redirected), a giant body
    // not read to its end, and 503s.
    expect(broken.received.length).toBeGreaterThan(new Set(broken.received.map((r) => r.event.id)).size);
    expect(broken.misbehaved.hangs).toBeGreaterThan(0);
    expect(broken.misbehaved.redirects).toBeGreaterThan(0);
    expect(broken.misbehaved.giants).toBeGreaterThan(0);
    expect(broken.misbehaved.giantBytesWritten).toBeLessThan((broken.misbehaved.giants * GIANT_BYTES) / 4);
    const issuer = stack.issuers[0]!;
    const failures = issuer.logs('webhook delivery failed; will retry').map((l) => String(l.err));
    expect(failures.some((err) => err.includes('no answer within 2000 ms'))).toBe(true);
    expect(failures.some((err) => /answered 307, a redirect .*not followed/.test(err))).toBe(true);

    expect(await metric(metricsPort, 'certfleet_webhook_deliveries_total', { result: 'delivered' })).toBeGreaterThanOrEqual(
      2 * idsAtOk.size,
    );
    expect(await metric(metricsPort, 'certfleet_webhook_deliveries_total', { result: 'failed' })).toBeGreaterThan(0);
    expect(await metric(metricsPort, 'certfleet_webhook_deliveries_total', { result: 'gave_up' })).toBeGreaterThan(0);
    expect(await metric(metricsPort, 'certfleet_webhook_queue_depth', { state: 'failed' })).toBeGreaterThan(0);
    // The receiver URL's password never reached a log line.
    for (const proc of [...stack.issuers, stack.renewer!]) expect(proc.lines.join('\n')).not.toContain('hunter22');
  }, 180_000);

  it('publishes hostname.created and hostname.deleted from the API, and certificate.issued between them', async () => {
    const name = 'api-made.example.com';
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${dashboardPort}${path}`, {
        method,
        headers: { authorization: `Bearer ${API_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    expect((await api('POST', '/v1/hostnames', { hostname: name, custom_metadata: { customer: 42 } })).status).toBe(201);
    const created = await until('hostname.created', () => ok.accepted('hostname.created', name)[0]);
    expect(created.event.data).toMatchObject({ hostname: name, status: 'pending', custom_metadata: { customer: 42 } });
    expect((await handshake(stack.edges[0]!.ports.httpsPort, name, stack.rootPem)).authorized).toBe(true);
    await until('certificate.issued', () => ok.accepted('certificate.issued', name)[0], 60_000);
    expect((await api('DELETE', `/v1/hostnames/${name}`)).status).toBe(200);
    const deleted = await until('hostname.deleted', () => ok.accepted('hostname.deleted', name)[0]);
    expect(deleted.event.data).toMatchObject({ hostname: name, status: 'retired' });
    // Its certificate is retired by the delete (the issuer never sees it again), and announced once.
    const retired = await until('certificate.retired', () => ok.accepted('certificate.retired', name)[0]);
    expect(retired.event.data).toMatchObject({ hostname: name, status: 'retired' });
    // Deleting again changes nothing and publishes nothing new; each event reached the receiver once.
    await api('DELETE', `/v1/hostnames/${name}`);
    const ids = ok.received.filter((r) => r.event.data.hostname === name).map((r) => r.event.id);
    expect(ids.length).toBe(new Set(ids).size);
    // (certificate.expiring may come between, as the renewer's tick falls: not part of this order.)
    const types = ok.received.filter((r) => r.event.data.hostname === name && r.event.type !== 'certificate.expiring');
    expect(types.map((r) => r.event.type)).toEqual(['hostname.created', 'certificate.issued', 'hostname.deleted', 'certificate.retired']);
  }, 120_000);
});
