import type { Queue, QueueEvents } from 'bullmq';
import { requestIssuance, waitForIssuance, type IssueJobData, type IssueJobResult } from '@certfleet/queue';
import type { IssueAndWait } from './certificate-resolver.js';

/**
 * Enqueues a visitor's issuance (joining the fleet's one job for the name, raised to visitor
 * priority) and waits for it through QueueEvents.
 */
export function queueIssuance(
  queue: Queue<IssueJobData, IssueJobResult>,
  events: QueueEvents,
  clock: () => number = Date.now,
): IssueAndWait {
  return async (name, timeoutMs) => {
    const { job } = await requestIssuance(queue, { name, reason: 'visitor', requestedAt: clock() });
    if (timeoutMs === 0) return 'enqueued';
    return waitForIssuance(job, events, timeoutMs);
  };
}
