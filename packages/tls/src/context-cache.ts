import { createSecureContext, type SecureContext } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { createSingleflight } from '@certfleet/singleflight';

export interface CachedContext {
  context: SecureContext;
  /**
   * The RSA certificate of a dual-key name. Node's SNI path gives OpenSSL one certificate per
   * connection, so the SNI callback returns this one to clients that cannot verify ECDSA and
   * `context` (ECDSA) to the rest (apps/edge/src/key-type-choice.ts).
   */
  rsaContext: SecureContext | undefined;
  serial: string;
  notAfter: number;
}

/** What a loader returns: a certificate to serve, or null when there is none. */
export interface LoadedPem {
  chainPem: string;
  keyPem: string;
  serial: string;
  notAfter: number;
  /** An RSA pair for the same name: OpenSSL picks per client, ECDSA for those that offer it. */
  rsa?: { chainPem: string; keyPem: string } | undefined;
}

export interface SecureContextCacheOptions {
  /** At most this many names. */
  max: number;
  /** At most about this many bytes of memory, by {@link estimatedContextBytes}; unset = count only. */
  maxBytes?: number | undefined;
  /** Told the estimated bytes of every context that leaves the cache (see createNativeMemoryReclaimer). */
  onRelease?: ((bytes: number) => void) | undefined;
}

/**
 * What one cached name costs in memory. A secure context holding one ECDSA chain measured about
 * 27 KB of resident memory on Node 20 (OpenSSL's parsed certificates and key, not the V8 heap);
 * the PEM text is counted twice for the parsed copies of larger chains and RSA keys.
 */
export function estimatedContextBytes(pem: LoadedPem): number {
  const perContext = (p: { chainPem: string; keyPem: string }) => 24_576 + 2 * (p.chainPem.length + p.keyPem.length);
  return perContext(pem) + (pem.rsa ? perContext(pem.rsa) : 0);
}

/**
 * Secure contexts for the handshake path, bounded in count and in bytes (each costs ~27 KB and
 * ~1.5 ms of CPU to build), least recently used first out. A hit does no I/O. Concurrent misses
 * for one name share one load (singleflight). Contexts past `notAfter` are never returned, and
 * a load that raced with {@link invalidate} is served once but not kept.
 */
export class SecureContextCache {
  private readonly cache: LRUCache<string, CachedContext & { bytes: number }>;
  /** Loads in progress; {@link invalidate} forgets a name's, so what it read is served once, not kept. */
  private readonly loading = createSingleflight<string, CachedContext | null>();

  constructor(
    options: SecureContextCacheOptions,
    private readonly clock: () => number = Date.now,
  ) {
    const onRelease = options.onRelease;
    this.cache = new LRUCache<string, CachedContext & { bytes: number }>({
      max: options.max,
      ...(onRelease ? { dispose: (entry: { bytes: number }) => onRelease(entry.bytes) } : {}),
      ...(options.maxBytes === undefined
        ? {}
        : { maxSize: options.maxBytes, sizeCalculation: (entry: { bytes: number }) => Math.max(1, entry.bytes) }),
    });
  }

  /** The cached context for `name`, if any and unexpired: synchronous, no I/O. */
  peek(name: string): CachedContext | undefined {
    const hit = this.cache.get(name);
    if (hit && hit.notAfter <= this.clock()) {
      this.cache.delete(name);
      return undefined;
    }
    return hit;
  }

  /** The cached context, else `load()` once for all concurrent callers. */
  async get(name: string, load: () => Promise<LoadedPem | null>): Promise<CachedContext | null> {
    const hit = this.peek(name);
    if (hit) return hit;
    return this.loading.run(name, (flight) =>
      Promise.resolve()
        .then(load)
        .then((pem) => {
          if (!pem || pem.notAfter <= this.clock()) return null;
          const entry = toEntry(pem);
          if (!flight.forgotten) this.cache.set(name, entry);
          return entry;
        }),
    );
  }

  /**
   * Caches a certificate already at hand (read synchronously, e.g. from the edge's local store)
   * and returns its context: no I/O, but the ~1 ms of CPU a context costs. Null when expired.
   */
  set(name: string, pem: LoadedPem): CachedContext | null {
    if (pem.notAfter <= this.clock()) return null;
    const entry = toEntry(pem);
    this.cache.set(name, entry);
    return entry;
  }

  /** Forgets `name`, so the next handshake loads the stored certificate again. */
  invalidate(name: string): void {
    this.cache.delete(name);
    // A load in flight may have read the old certificate: it must not be cached, and the next
    // handshake must start a load of its own.
    this.loading.forget(name);
  }

  get size(): number {
    return this.cache.size;
  }

  /** Estimated bytes held, by {@link estimatedContextBytes}. */
  get bytes(): number {
    return this.cache.calculatedSize ?? 0;
  }
}

function toEntry(pem: LoadedPem): CachedContext & { bytes: number } {
  return {
    context: toSecureContext(pem),
    rsaContext: pem.rsa ? toSecureContext(pem.rsa) : undefined,
    serial: pem.serial,
    notAfter: pem.notAfter,
    bytes: estimatedContextBytes(pem),
  };
}

export function toSecureContext(pem: { chainPem: string; keyPem: string }): SecureContext {
  return createSecureContext({ cert: pem.chainPem, key: pem.keyPem });
}
