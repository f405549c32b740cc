import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { registerFleetMetrics, Registry } from '@certfleet/observability';
import { createIssueQueue, PRIORITY } from '@certfleet/queue';
import { createMetricReads, redisKeys } from '@certfleet/store';
import { newPrefix } from '../support/certfleet.js';
import { startRedis, type RedisServer } from '../support/redis.js';

const DAY_MS = 86_400_000;
const PER_HOSTNAME_MAX = 100;

/**
 * A scrape must cost the same at a million certificates as at a hundred: counts on the indexes
 * and at most METRICS_PER_HOSTNAME_MAX names read, never a scan. Measured here as Redis sees it
 * (INFO commandstats): the commands one scrape sends, at two sizes of inventory ten times apart.
 * (At 1,000,000 certificates a scrape measured 5 ms, about 1 ms of it in Redis; see the report.)
 */
describe('what a fleet metrics scrape costs Redis', () => {
  let server: RedisServer;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedis('redis-metrics-scale');
    redis = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  /** Fills an inventory of `size` certificates under a fresh prefix: one in fifty retired (not in `renewals`). */
  async function fleetOf(size: number): Promise<string> {
    const prefix = newPrefix('scale');
    const keys = redisKeys(prefix);
    const now = Date.now();
    for (let start = 0; start < size; start += 5_000) {
      const inventory: (string | number)[] = [];
      const renewals: (string | number)[] = [];
      for (let i = start; i < Math.min(size, start + 5_000); i++) {
        const notAfter = now - DAY_MS + ((i * 7_919) % 90) * DAY_MS;
        inventory.push(notAfter, `host-${i}.example.com`);
        if (i % 50 !== 0) renewals.push(notAfter - 30 * DAY_MS, `host-${i}.example.com`);
      }
      await redis.zadd(keys.inventory, ...inventory);
      if (renewals.length > 0) await redis.zadd(keys.renewals, ...renewals);
    }
    return prefix;
  }

  /** Bytes Redis has sent to its clients so far. */
  const bytesOut = async () => Number(/total_net_output_bytes:(\d+)/.exec(await redis.info('stats'))?.[1]);

  /** The commands one scrape sends (name -> calls), the bytes Redis answered, and the text the scrape gives. */
  async function scrape(prefix: string): Promise<{ commands: Record<string, number>; bytes: number; text: string }> {
    const queue = createIssueQueue({ connection: redis, prefix: redisKeys(prefix).queuePrefix });
    const registry = new Registry();
    registerFleetMetrics(registry, {
      sources: { reads: createMetricReads(redis, prefix), queue, priorities: PRIORITY, perHostnameMax: PER_HOSTNAME_MAX },
    });
    await queue.waitUntilReady();
    await redis.config('RESETSTAT');
    const before = await bytesOut();
    const text = await registry.metrics();
    const bytes = (await bytesOut()) - before;
    const stats = await redis.info('commandstats');
    await queue.close();
    const commands: Record<string, number> = {};
    for (const [, command, calls] of stats.matchAll(/cmdstat_([\w|]+):calls=(\d+)/g)) {
      // RESETSTAT and INFO are this function's own.
      if (command === 'config|resetstat' || command === 'info' || command === 'config') continue;
      // A script goes as EVAL the first time a connection sends it, EVALSHA after.
      const name = command === 'evalsha' ? 'eval' : (command as string);
      commands[name] = (commands[name] ?? 0) + Number(calls);
    }
    return { commands, bytes, text };
  }

  it('sends the same commands at 3,000 and at 30,000 certificates, gets no more bytes back, and never scans', async () => {
    const small = await scrape(await fleetOf(3_000));
    const large = await scrape(await fleetOf(30_000));
    expect(large.commands).toEqual(small.commands);
    // Nor do the answers grow with the inventory (reading 30,000 names would be about a megabyte).
    expect(large.bytes).toBeLessThan(small.bytes * 1.2);
    expect(Object.keys(large.commands).filter((command) => /scan|keys|zrangebyscore|zrangebylex|hgetall|smembers/i.test(command))).toEqual(
      [],
    );
    // Per-name reads are bounded by METRICS_PER_HOSTNAME_MAX, whatever the inventory holds.
    expect(large.commands.hget ?? 0).toBeLessThanOrEqual(PER_HOSTNAME_MAX);
    // And the counts are right at that size: one in fifty retired, the rest split by notAfter.
    expect(large.text).toContain('certfleet_certificate_expiry_seconds_count 30000');
    expect(large.text).toContain('certfleet_certificates{state="retired"} 600');
    const samples = large.text.split('\n').filter((line) => line.startsWith('certfleet_certificate_expiration_timestamp_seconds{'));
    expect(samples).toHaveLength(PER_HOSTNAME_MAX);
  });
});
