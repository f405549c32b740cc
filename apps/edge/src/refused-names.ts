import { LRUCache } from 'lru-cache';

/** Why a name was refused: the domain policy denied it, or a new-name limit shared by every client was reached. */
export type RefusalReason = 'denied' | 'limited';

export interface RefusedNamesOptions {
  /** How long a refusal is remembered (ms): also the longest a name stays refused after it became allowed. */
  ttlMs: number;
  /** Names remembered at once; the least recently used is forgotten first. */
  max: number;
  clock?: () => number;
}

/**
 * A short memory of names this process just refused without a certificate in Redis, so a flood
 * repeating them costs a map lookup, not Redis round trips. Only names found to have no stored
 * certificate go in, so it never hides one that had; one issued since (by another edge) waits at
 * most `ttlMs`. `ttlMs` 0 remembers nothing.
 */
export class RefusedNames {
  private readonly names: LRUCache<string, { reason: RefusalReason; until: number }>;
  private readonly clock: () => number;

  constructor(private readonly options: RefusedNamesOptions) {
    this.names = new LRUCache({ max: options.max });
    this.clock = options.clock ?? Date.now;
  }

  /** Synchronous, no I/O: why `name` was refused a moment ago, or undefined. */
  get(name: string): RefusalReason | undefined {
    const entry = this.names.get(name);
    if (!entry) return undefined;
    if (entry.until > this.clock()) return entry.reason;
    this.names.delete(name);
    return undefined;
  }

  /** Remembers a refusal for `ttlMs`, or less when the reason itself ends sooner (`forMs`). */
  add(name: string, reason: RefusalReason, forMs = this.options.ttlMs): void {
    const ms = Math.min(this.options.ttlMs, forMs);
    if (ms > 0) this.names.set(name, { reason, until: this.clock() + ms });
  }

  delete(name: string): void {
    this.names.delete(name);
  }
}
