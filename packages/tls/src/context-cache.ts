import { createSecureContext, type SecureContext } from 'node:tls';
import { LRUCache } from 'lru-cache';

export interface CachedContext {
  context: SecureContext;
  /**
   * The RSA certificate of a dual-key name. Node gives OpenSSL one certificate per context, so
   * the SNI callback installs this one with `socket.setKeyCert` before returning `context`
   * (ECDSA): OpenSSL then serves ECDSA to clients that offer it and RSA to the rest.
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

/**
 * Secure contexts for the handshake path, bounded in count (each costs ~30 KB and ~1 ms of CPU
 * to build). A hit does no I/O. Concurrent misses for one name share one load (singleflight).
 * Contexts past `notAfter` are never returned.
 */
export class SecureContextCache {
  private readonly cache: LRUCache<string, CachedContext>;
  private readonly loading = new Map<string, Promise<CachedContext | null>>();

  constructor(
    options: { max: number },
    private readonly clock: () => number = Date.now,
  ) {
    this.cache = new LRUCache({ max: options.max });
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
    const pending = this.loading.get(name);
    if (pending) return pending;
    const promise = (async () => {
      try {
        const pem = await load();
        if (!pem || pem.notAfter <= this.clock()) return null;
        const entry = {
          context: toSecureContext(pem),
          rsaContext: pem.rsa ? toSecureContext(pem.rsa) : undefined,
          serial: pem.serial,
          notAfter: pem.notAfter,
        };
        this.cache.set(name, entry);
        return entry;
      } finally {
        this.loading.delete(name);
      }
    })();
    this.loading.set(name, promise);
    return promise;
  }

  /** Forgets `name`, so the next handshake loads the stored certificate again. */
  invalidate(name: string): void {
    this.cache.delete(name);
  }

  get size(): number {
    return this.cache.size;
  }
}

export function toSecureContext(pem: { chainPem: string; keyPem: string }): SecureContext {
  return createSecureContext({ cert: pem.chainPem, key: pem.keyPem });
}
