/**
 * Webhook throughput, against a fresh redis-server of the bench's own (free port, stopped at the end) and a
 * loopback receiver that verifies each signature and answers 204:
 * 1. publish: N events, each queued for R receivers (one `addBulk` of R jobs per event), E at a time, as
 *    the issuer's jobs and the API would: events per second;
 * 2. delivery: one worker (the issuer's, concurrency 16) drains the N x R jobs: deliveries per second;
 * 3. the same events published again (a retried job): no job added.
 * Run: `pnpm exec tsx bench/webhooks.ts`. BENCH_EVENTS, BENCH_RECEIVERS, BENCH_CONCURRENT change the sizes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stopAll } from '../test/support/processes.js';
import { startRedis } from '../test/support/redis.js';
import {
  createLogger,
  createRegistry,
  createWebhookPublisher,
  createWebhookQueue,
  redisKeys,
  startWebhookWorker,
  verifySignature,
} from '../test/support/workspace.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 5_000);
const RECEIVERS = Number(process.env.BENCH_RECEIVERS ?? 2);
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 50);
const SECRET = 'a-secret-for-the-webhook-bench';

async function main() {
  const redis = await startRedis('bench-webhooks');
  let delivered = 0;
  let invalid = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!verifySignature(SECRET, req.headers['certfleet-signature'] as string, Buffer.concat(chunks), 300).valid) invalid += 1;
      delivered += 1;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const urls = Array.from({ length: RECEIVERS }, (_, i) => `http://127.0.0.1:${port}/r${i}`);
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const prefix = redisKeys('bench').queuePrefix;
  const queue = createWebhookQueue({ connection, prefix, retry: { backoffMs: 1_000, retryForMs: 60_000 } });
  const logger = createLogger({ role: 'bench', level: 'warn' });
  const publisher = createWebhookPublisher({
    queue,
    urls,
    // A hostname object of the usual size (about 600 bytes of JSON), without reading a store.
    describe: async (hostname) => ({
      hostname,
      status: 'active',
      certificate: {
        status: 'active',
        serial: '04A1B2C3D4E5F60718293A4B5C6D7E8F9012',
        not_before: '2026-12-01T00:00:00.000Z',
        not_after: '2027-03-01T00:00:00.000Z',
        issuer: 'R11',
        key_types: ['ecdsa'],
        renewal_at: '2027-01-30T00:00:00.000Z',
        last_renewed_at: '2026-12-01T00:00:00.000Z',
      },
      validation_errors: [],
      hold: null,
      cooldown_until: null,
      custom_metadata: { customer: 'c-42' },
      upstream: null,
      created_at: '2026-12-01T00:00:00.000Z',
      updated_at: '2026-12-01T00:00:00.000Z',
    }),
    logger,
  });
  const publishAll = async () => {
    for (let start = 0; start < EVENTS; start += CONCURRENT) {
      const batch = Array.from({ length: Math.min(CONCURRENT, EVENTS - start) }, (_, i) => start + i);
      await Promise.all(batch.map((i) => publisher.publish('certificate.issued', `shop-${i}.example.com`, `SERIAL${i}`)));
    }
  };
  try {
    let started = performance.now();
    await publishAll();
    const publishMs = performance.now() - started;
    const jobs = await queue.count();
    started = performance.now();
    await publishAll();
    const republishMs = performance.now() - started;
    const jobsAfter = await queue.count();

    const worker = startWebhookWorker({
      connection,
      prefix,
      urls,
      secret: SECRET,
      timeoutMs: 5_000,
      queue,
      registry: createRegistry('bench'),
      logger,
    });
    started = performance.now();
    while (delivered < EVENTS * RECEIVERS) await new Promise((resolve) => setTimeout(resolve, 20));
    const deliverMs = performance.now() - started;
    await worker.close();
    const result = {
      events: EVENTS,
      receivers: RECEIVERS,
      publishPerSecond: Math.round(EVENTS / (publishMs / 1000)),
      jobsQueued: jobs,
      republishPerSecond: Math.round(EVENTS / (republishMs / 1000)),
      jobsAddedByRepublish: jobsAfter - jobs,
      deliveriesPerSecond: Math.round((EVENTS * RECEIVERS) / (deliverMs / 1000)),
      invalidSignatures: invalid,
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await queue.close();
    server.close();
    await redis.stop();
    await stopAll();
  }
}

await main();
