import { UnrecoverableError } from 'bullmq';

/**
 * BullMQ's UnrecoverableError (the job fails now, its attempts left unspent), keeping the error
 * that caused it: BullMQ's constructor takes a message only.
 */
export function unrecoverable(message: string, cause?: unknown): UnrecoverableError {
  const error = new UnrecoverableError(message);
  return cause === undefined ? error : Object.assign(error, { cause });
}
