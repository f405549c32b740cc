import { EventEmitter } from 'node:events';
import type { Job, QueueEvents } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { IssueJobData, IssueJobResult } from './catalog.js';
import { waitForIssuance } from './issue-queue.js';

/**
 * A job whose wait ends as `finish` says, and QueueEvents as an emitter. BullMQ's own wait
 * rejects a job that failed, or a wait past its ttl, with a plain Error (the message says which).
 */
function fakeJob(finish: (ttl: number) => Promise<unknown>) {
  const ttls: number[] = [];
  const job = {
    id: 'job-1',
    waitUntilFinished: (_events: QueueEvents, ttl: number) => {
      ttls.push(ttl);
      return finish(ttl);
    },
  } as unknown as Job<IssueJobData, IssueJobResult>;
  const events = new EventEmitter() as unknown as QueueEvents;
  return { job, events, ttls };
}

const never = () => new Promise<never>(() => undefined);

describe('waitForIssuance', () => {
  it('says issued when the job finishes with a certificate', async () => {
    const { job, events } = fakeJob(async () => ({ outcome: 'issued', serial: 'AB', notAfter: 1 }));
    expect(await waitForIssuance(job, events, 1_000)).toBe('issued');
  });

  it('says failed when the job failed, whatever its failure says (even "timed out")', async () => {
    const { job, events } = fakeJob(async () => {
      throw new Error('the CA timed out validating a.example');
    });
    expect(await waitForIssuance(job, events, 1_000)).toBe('failed');
  });

  it('says timeout when the job has not finished in time, by its own timer', async () => {
    const { job, events, ttls } = fakeJob(never);
    expect(await waitForIssuance(job, events, 20)).toBe('timeout');
    // BullMQ's wait outlives ours, only to remove its listeners.
    expect(ttls[0]).toBeGreaterThan(20);
  });

  it('says delayed as soon as this job is delayed, not another one', async () => {
    const { job, events } = fakeJob(never);
    const emitter = events as unknown as EventEmitter;
    const waiting = waitForIssuance(job, events, 5_000);
    emitter.emit('delayed', { jobId: 'other' });
    emitter.emit('delayed', { jobId: 'job-1' });
    expect(await waiting).toBe('delayed');
    expect(emitter.listenerCount('delayed')).toBe(0);
  });
});
