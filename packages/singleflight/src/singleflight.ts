/** What a running call knows of itself. */
export interface Flight {
  /**
   * True once {@link Singleflight.forget} dropped this call (its key was invalidated while it
   * ran): what it read may be out of date, so it should answer its callers but keep nothing.
   */
  readonly forgotten: boolean;
}

/**
 * Concurrent calls for one key merged into one (Go's x/sync/singleflight): the first caller
 * starts the work, later callers for the key share its promise until it settles. Nothing is
 * cached: once settled, the next call for the key starts again. A cache in front decides what
 * is kept.
 */
export interface Singleflight<K, V> {
  /** The call in flight for `key`, else `work()` started now and shared until it settles. */
  run(key: K, work: (flight: Flight) => Promise<V>): Promise<V>;
  /** The call in flight for `key`, if any: to join one without starting one. */
  pending(key: K): Promise<V> | undefined;
  /**
   * Drops the call in flight for `key`: its callers still get its result, the next caller starts
   * a new call, and the dropped call sees `flight.forgotten`. Returns whether one was in flight.
   */
  forget(key: K): boolean;
  /** {@link forget} for every call in flight. */
  forgetAll(): void;
  /** Calls in flight. */
  readonly size: number;
}

interface Running<V> extends Flight {
  forgotten: boolean;
  promise: Promise<V>;
}

export function createSingleflight<K, V>(): Singleflight<K, V> {
  const flights = new Map<K, Running<V>>();
  return {
    run(key, work) {
      const running = flights.get(key);
      if (running) return running.promise;
      const flight: Running<V> = { forgotten: false, promise: Promise.resolve() as Promise<V> };
      let started: Promise<V>;
      try {
        started = work(flight);
      } catch (error) {
        // A synchronous throw reaches the callers as a rejection, like any other failure.
        started = Promise.reject(error);
      }
      flight.promise = started.finally(() => {
        // A forgotten call must not remove the call that replaced it.
        if (flights.get(key) === flight) flights.delete(key);
      });
      flights.set(key, flight);
      return flight.promise;
    },
    pending: (key) => flights.get(key)?.promise,
    forget(key) {
      const running = flights.get(key);
      if (!running) return false;
      running.forgotten = true;
      flights.delete(key);
      return true;
    },
    forgetAll() {
      for (const running of flights.values()) running.forgotten = true;
      flights.clear();
    },
    get size() {
      return flights.size;
    },
  };
}
