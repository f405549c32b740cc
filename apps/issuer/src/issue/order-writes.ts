import { retryAcrossFailover } from '@certfleet/store';

/**
 * How long a write inside an order waits out a Redis failover (a Sentinel promotion takes a few
 * seconds, then the client reconnects). Failing the write would fail the order, and the job's
 * retry would place a second order at the CA for the same name.
 */
const ORDER_WRITE_DEADLINE_MS = 15_000;

/** Runs an idempotent store write made while an order is open, again while Redis fails over. */
export function writeWithinOrder<T>(write: () => Promise<T>): Promise<T> {
  return retryAcrossFailover(write, { deadlineMs: ORDER_WRITE_DEADLINE_MS });
}
