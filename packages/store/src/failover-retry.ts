import { ReplyError } from 'ioredis';

/**
 * Replies a server gives while a failover is under way: a demoted master refusing writes, a
 * replica still loading, a Sentinel-managed master without its replica, a Cluster slot moving.
 * The first word of a Redis error reply is its code (the protocol's, not prose).
 */
const FAILOVER_REPLY_CODES = new Set(['READONLY', 'LOADING', 'MASTERDOWN', 'TRYAGAIN', 'CLUSTERDOWN', 'NOREPLICAS']);
const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN', 'EHOSTUNREACH']);
/**
 * ioredis rejects a command whose connection ended with a plain Error of this message and no
 * class or code of its own (ioredis itself tells it apart by this message).
 */
const IOREDIS_CONNECTION_CLOSED = 'Connection is closed.';

/** Whether `error` is what a Redis command gets while the server it went to fails over: worth retrying once the client reconnects. */
export function isFailoverError(error: unknown): boolean {
  if (error instanceof ReplyError) {
    const code = String((error as Error).message).split(' ', 1)[0] ?? '';
    return FAILOVER_REPLY_CODES.has(code);
  }
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined) return SOCKET_CODES.has(code);
  return error.constructor === Error && error.message === IOREDIS_CONNECTION_CLOSED;
}

export interface FailoverRetryOptions {
  /** Give up (rethrowing the last error) once this long has passed since the first try. */
  deadlineMs: number;
  /** Called before each retry, with the error that caused it. */
  onRetry?: (error: unknown, attempt: number) => void;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs an idempotent write, and runs it again while it fails only because its server is failing
 * over (see {@link isFailoverError}), 100 ms apart doubling to 1 s, until `deadlineMs` has passed.
 * For the writes inside an ACME order (the challenge answer, the certificate): failing them fails
 * the order, and the job's retry would order again at the CA; a Sentinel failover takes seconds.
 * Any other error is rethrown at once.
 */
export async function retryAcrossFailover<T>(write: () => Promise<T>, options: FailoverRetryOptions): Promise<T> {
  const clock = options.clock ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = clock();
  let pauseMs = 100;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await write();
    } catch (error) {
      if (!isFailoverError(error) || clock() - started + pauseMs > options.deadlineMs) throw error;
      options.onRetry?.(error, attempt);
      await sleep(pauseMs);
      pauseMs = Math.min(1_000, pauseMs * 2);
    }
  }
}
