import { randomUUID } from 'node:crypto';
import { Job, Queue, QueueEvents, Worker, type ConnectionOptions, type Processor } from 'bullmq';
import { ISSUE_JOB, ISSUE_QUEUE, IssueJobData, IssueJobResult, PRIORITY, issueDeduplicationId } from './catalog.js';

export interface QueueConnection {
  connection: ConnectionOptions;
  /** BullMQ key prefix: `redisKeys(prefix).queuePrefix`. */
  prefix: string;
}

const KEEP_FINISHED = {
  // Waiting edges read a finished job's state: keep it long enough for the slowest waiter.
  removeOnComplete: { age: 3_600, count: 10_000 },
  removeOnFail: { age: 86_400, count: 10_000 },
};

export function createIssueQueue(options: QueueConnection): Queue<IssueJobData, IssueJobResult> {
  return new Queue<IssueJobData, IssueJobResult>(ISSUE_QUEUE, {
    connection: options.connection,
    prefix: options.prefix,
    defaultJobOptions: {
      // Transient failures (a 5xx, a bad nonce that outlived acme-client's own retries); the CA
      // being down or rate-limiting delays the job instead, without spending these attempts.
      attempts: 5,
      backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
      ...KEEP_FINISHED,
    },
  });
}

export function createIssueQueueEvents(options: QueueConnection): QueueEvents {
  return new QueueEvents(ISSUE_QUEUE, { connection: options.connection, prefix: options.prefix });
}

export function createIssueWorker(
  options: QueueConnection & { concurrency: number; lockMs: number },
  processor: Processor<IssueJobData, IssueJobResult>,
): Worker<IssueJobData, IssueJobResult> {
  return new Worker<IssueJobData, IssueJobResult>(ISSUE_QUEUE, processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    // A job whose issuer died (no lock renewal for lockMs) is taken over by another issuer.
    lockDuration: options.lockMs,
    stalledInterval: options.lockMs,
    maxStalledCount: 3,
  });
}

export interface IssuanceRequest {
  /** The job that will produce the certificate: this request's own, or the one it joined. */
  job: Job<IssueJobData, IssueJobResult>;
  /** True when an unfinished job for the name already existed and this request joined it. */
  joined: boolean;
}

/**
 * Asks for a certificate for `data.name`. Concurrent requests from any number of processes
 * collapse into one job; a request that joins a queued job of lower priority (a renewal)
 * raises it to its own, so a waiting visitor is never stuck behind the renewal backlog.
 */
export async function requestIssuance(queue: Queue<IssueJobData, IssueJobResult>, data: IssueJobData): Promise<IssuanceRequest> {
  const payload = IssueJobData.parse(data);
  const ownId = randomUUID();
  const priority = PRIORITY[payload.reason];
  const job = await queue.add(ISSUE_JOB, payload, {
    jobId: ownId,
    priority,
    deduplication: { id: issueDeduplicationId(payload.name) },
  });
  const jobId = job.id ?? ownId;
  const joined = jobId !== ownId;
  if (joined) await raisePriority(queue, jobId, priority);
  return { job, joined };
}

async function raisePriority(queue: Queue<IssueJobData, IssueJobResult>, jobId: string, priority: number) {
  const existing = await Job.fromId<IssueJobData, IssueJobResult>(queue, jobId);
  if (!existing || existing.priority <= priority) return;
  const state = await existing.getState();
  if (state === 'prioritized' || state === 'waiting' || state === 'delayed') {
    // Another process may move it to active meanwhile; then it is running anyway.
    await existing.changePriority({ priority }).catch(() => undefined);
  }
}

/** How a wait for issuance ended. */
export type IssuanceOutcome = 'issued' | 'failed' | 'timeout' | 'delayed';

/**
 * BullMQ's own wait is given this much longer than ours, so that our timer always decides a
 * timeout; BullMQ's only removes its listeners afterwards. (BullMQ rejects a wait that timed
 * out with the same plain Error as a job that failed, told apart by message text alone.)
 */
const LISTENER_CLEANUP_AFTER_MS = 1_000;

/**
 * Waits until `job` finishes, `timeoutMs` passes, or the job is delayed (no CA can take the
 * order now: waiting longer would only hold the visitor). The caller serves what it can.
 */
export async function waitForIssuance(
  job: Job<IssueJobData, IssueJobResult>,
  events: QueueEvents,
  timeoutMs: number,
): Promise<IssuanceOutcome> {
  let onDelayed: ((args: { jobId: string }) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const delayed = new Promise<IssuanceOutcome>((resolve) => {
    onDelayed = (args) => {
      if (args.jobId === job.id) resolve('delayed');
    };
    events.on('delayed', onDelayed);
  });
  const timedOut = new Promise<IssuanceOutcome>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const finished = job.waitUntilFinished(events, timeoutMs + LISTENER_CLEANUP_AFTER_MS).then(
    (result: unknown) => (IssueJobResult.safeParse(result).success ? 'issued' : 'failed') as IssuanceOutcome,
    () => 'failed' as IssuanceOutcome,
  );
  try {
    return await Promise.race([finished, delayed, timedOut]);
  } finally {
    clearTimeout(timer);
    if (onDelayed) events.off('delayed', onDelayed);
  }
}
