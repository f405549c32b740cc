import type { Logger } from '@certfleet/observability';
import { errorMessage } from '@certfleet/observability';
import type { ServedNameStore } from '@certfleet/store';

/** Names remembered as recently recorded, at most; past it, the oldest are forgotten (and may be recorded again early). */
const MAX_REMEMBERED = 100_000;
/** Names one flush writes, at most; the rest wait for the next flush. */
const MAX_PER_FLUSH = 10_000;

export interface ServedNames {
  /**
   * Notes that a certificate was served for `name`. On the handshake path: no I/O, no await,
   * O(1); at most one write per name per interval leaves this process.
   */
  note(name: string): void;
  /** Writes what is pending now (also done on a timer); never throws. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Records, sampled and batched, when this edge last served each name, so that renewals can skip
 * names nobody visits (RENEW_IDLE_AFTER). A name is written at most once per `intervalMs` by
 * this process, in one pipeline per flush, off the handshake path. When Redis is down the batch
 * is dropped and logged: a missed sample only makes a name look idle later than it is, never
 * fails a handshake.
 */
export function createServedNames(options: {
  store: ServedNameStore;
  intervalMs: number;
  /** How often pending names are written; default: every tenth of the interval, 1-10 s. */
  flushMs?: number;
  logger: Logger;
  clock?: () => number;
}): ServedNames {
  const clock = options.clock ?? Date.now;
  // name -> when this process last queued it for writing (insertion order = oldest first).
  const recorded = new Map<string, number>();
  let pending = new Map<string, number>();
  let flushing: Promise<void> = Promise.resolve();

  function note(name: string): void {
    const now = clock();
    const last = recorded.get(name);
    if (last !== undefined && now - last < options.intervalMs) return;
    recorded.delete(name);
    recorded.set(name, now);
    if (recorded.size > MAX_REMEMBERED) recorded.delete(recorded.keys().next().value as string);
    pending.set(name, now);
  }

  async function write(): Promise<void> {
    if (pending.size === 0) return;
    const batch = [...pending].slice(0, MAX_PER_FLUSH);
    if (batch.length === pending.size) pending = new Map();
    else for (const [name] of batch) pending.delete(name);
    try {
      await options.store.record(batch);
    } catch (error) {
      options.logger.warn({ err: errorMessage(error), names: batch.length }, 'could not record served names; dropped this sample');
    }
  }

  const flush = () => (flushing = flushing.then(write));
  const flushMs = options.flushMs ?? Math.min(10_000, Math.max(1_000, options.intervalMs / 10));
  const timer = setInterval(() => void flush(), flushMs);
  timer.unref();

  return {
    note,
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
