/** Refuses a client that sent too many wrong tokens, until its window has passed. */
export interface LoginThrottle {
  /** How long `client` must wait before it may try again; 0 when it may try now. */
  retryAfterMs(client: string): number;
  /** Counts one wrong token from `client`. */
  failed(client: string): void;
}

export interface LoginThrottleOptions {
  /** Wrong tokens a client may send per window; the next attempt is refused until the window ends. */
  maxFailures: number;
  /** The window opens at a client's first wrong token. */
  windowMs: number;
  /** Clients remembered at once, so a flood of addresses cannot grow the map without bound. */
  maxClients: number;
  now?: () => number;
}

/**
 * Per-client fixed windows of wrong tokens, in this process (one dashboard is enough for
 * operators; its tokens are long, so this only makes guessing slow, it is not the protection).
 *
 * A right token does not clear a client's count: a holder of the viewer token could otherwise
 * guess the admin token at full speed, one right login between guesses. Other clients'
 * failures never count against a client.
 *
 * A plain Map, not an LRU: an entry is written once, when its window opens, and never moved, so
 * insertion order is window order and the first entry is the one closest to its end, the right
 * one to forget when the map is full.
 */
export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const now = options.now ?? Date.now;
  const windows = new Map<string, { openedAt: number; failures: number }>();

  const current = (client: string) => {
    const window = windows.get(client);
    if (window && now() - window.openedAt >= options.windowMs) {
      windows.delete(client);
      return undefined;
    }
    return window;
  };

  return {
    retryAfterMs(client) {
      const window = current(client);
      if (!window || window.failures < options.maxFailures) return 0;
      return window.openedAt + options.windowMs - now();
    },
    failed(client) {
      const window = current(client);
      if (window) {
        window.failures += 1;
        return;
      }
      if (windows.size >= options.maxClients) {
        const oldest = windows.keys().next().value;
        if (oldest !== undefined) windows.delete(oldest);
      }
      windows.set(client, { openedAt: now(), failures: 1 });
    },
  };
}
