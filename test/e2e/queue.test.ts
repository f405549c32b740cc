import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from 'bullmq';
import { ISSUE_QUEUE, PRIORITY, requestIssuance } from '@certfleet/queue';
import { newPrefix } from '../support/certfleet.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { issueQueue, queueConnection } from '../support/queue.js';

describe('the issue queue against a real Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  const queueFor = (prefix: string) => issueQueue(redis.port, prefix);

  it('collapses concurrent requests for one name into one job', async () => {
    const queue = queueFor(newPrefix());
    try {
      const requests = await Promise.all(
        Array.from({ length: 20 }, () => requestIssuance(queue, { name: 'one.example.com', reason: 'visitor', requestedAt: Date.now() })),
      );
      expect(new Set(requests.map((r) => r.job.id)).size).toBe(1);
      expect(requests.filter((r) => !r.joined)).toHaveLength(1);
      expect(await queue.getJobCountByTypes('prioritized', 'waiting')).toBe(1);
    } finally {
      await queue.close();
    }
  });

  it('raises a queued renewal to visitor priority when a visitor joins it', async () => {
    const queue = queueFor(newPrefix());
    try {
      const renewal = await requestIssuance(queue, { name: 'busy.example.com', reason: 'renewal', requestedAt: Date.now() });
      expect((await queue.getJob(renewal.job.id ?? ''))?.priority).toBe(PRIORITY.renewal);
      const visitor = await requestIssuance(queue, { name: 'busy.example.com', reason: 'visitor', requestedAt: Date.now() });
      expect(visitor.joined).toBe(true);
      expect(visitor.job.id).toBe(renewal.job.id);
      expect((await queue.getJob(renewal.job.id ?? ''))?.priority).toBe(PRIORITY.visitor);
    } finally {
      await queue.close();
    }
  });

  it('runs a new job for a name whose earlier job finished (a re-issue is never dropped)', async () => {
    const prefix = newPrefix();
    const queue = queueFor(prefix);
    const ran: string[] = [];
    const worker = new Worker(
      ISSUE_QUEUE,
      async (job) => {
        ran.push(job.id ?? '');
        return { outcome: 'issued', serial: 'AB', notAfter: 1 };
      },
      queueConnection(redis.port, prefix, { maxRetriesPerRequest: null }),
    );
    try {
      const first = await requestIssuance(queue, { name: 'again.example.com', reason: 'provision', requestedAt: Date.now() });
      await waitFor(() => ran.length === 1);
      await waitFor(async () => (await first.job.getState()) === 'completed');
      const second = await requestIssuance(queue, { name: 'again.example.com', reason: 'provision', requestedAt: Date.now() });
      expect(second.joined).toBe(false);
      expect(second.job.id).not.toBe(first.job.id);
      await waitFor(() => ran.length === 2);
    } finally {
      await worker.close();
      await queue.close();
    }
  });

  it('refuses a payload that breaks the job contract', async () => {
    const queue = queueFor(newPrefix());
    try {
      await expect(requestIssuance(queue, { name: '', reason: 'visitor', requestedAt: Date.now() })).rejects.toThrow();
      await expect(
        requestIssuance(queue, { name: 'x.example.com', reason: 'whenever' as never, requestedAt: Date.now() }),
      ).rejects.toThrow();
    } finally {
      await queue.close();
    }
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
