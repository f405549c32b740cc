import type { Queue } from 'bullmq';
import { createIssueQueue, type IssueJobData, type IssueJobResult, type QueueConnection } from '@certfleet/queue';
import { redisKeys } from '@certfleet/store';

/**
 * Where one deployment's queues live: the test's redis-server and the deployment's BullMQ
 * prefix, from the key model (never spelled here). `options` go to the connection (a worker
 * wants `maxRetriesPerRequest: null`).
 */
export function queueConnection(port: number, prefix: string, options: { maxRetriesPerRequest?: null } = {}): QueueConnection {
  return { connection: { host: '127.0.0.1', port, ...options }, prefix: redisKeys(prefix).queuePrefix };
}

/** The deployment's issue queue, from the job catalog: close it when done. */
export function issueQueue(port: number, prefix: string): Queue<IssueJobData, IssueJobResult> {
  return createIssueQueue(queueConnection(port, prefix));
}
