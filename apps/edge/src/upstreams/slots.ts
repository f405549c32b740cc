/**
 * At most `max` requests in flight to one upstream address; the others wait in order, each for
 * at most `timeoutMs` (UPSTREAM_QUEUE_TIMEOUT). Without the bound, slow readers holding every
 * connection to an upstream would stall every later visitor of every tenant behind it, with
 * no time limit.
 */
export interface Slots {
  /**
   * Calls `granted` once a slot is free (at once when one is), or `timedOut` when none came
   * within the timeout. Returns a cancel function for a visitor who leaves while waiting.
   * Every granted slot must be given back with `release`, exactly once.
   */
  acquire(granted: () => void, timedOut: () => void): () => void;
  release(): void;
  /** In flight, and waiting. */
  readonly inUse: number;
  readonly waiting: number;
}

interface Waiter {
  granted: () => void;
  timer: NodeJS.Timeout;
}

export function createSlots(max: number, timeoutMs: number): Slots {
  let inUse = 0;
  // A Set keeps insertion order: the first entry is the longest waiter, and cancelling is O(1).
  const queue = new Set<Waiter>();
  return {
    acquire(granted, timedOut) {
      if (inUse < max && queue.size === 0) {
        inUse += 1;
        granted();
        return () => undefined;
      }
      const waiter: Waiter = {
        granted,
        timer: setTimeout(() => {
          queue.delete(waiter);
          timedOut();
        }, timeoutMs),
      };
      queue.add(waiter);
      return () => {
        if (queue.delete(waiter)) clearTimeout(waiter.timer);
      };
    },
    release() {
      for (const waiter of queue) {
        queue.delete(waiter);
        clearTimeout(waiter.timer);
        // The slot passes straight to the longest waiter: inUse stays the same.
        waiter.granted();
        return;
      }
      inUse = Math.max(0, inUse - 1);
    },
    get inUse() {
      return inUse;
    },
    get waiting() {
      return queue.size;
    },
  };
}
