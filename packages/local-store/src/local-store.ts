import { open, type Database, type RootDatabase } from 'lmdb';
import { isSealed, type Keyring } from '@certfleet/sealing';
import { preparePrivateDirectory } from './private-files.js';

/** A certificate as the local store keeps it: what a handshake needs, nothing for renewal. */
export interface LocalCertificate {
  /** The name it was requested for (the lookup key). */
  name: string;
  /** Leaf first, then intermediates, PEM. */
  chainPem: string;
  /** PKCS#8 PEM. */
  keyPem: string;
  serial: string;
  notAfter: number;
  /** The RSA certificate of a dual-key name. */
  rsa?: { chainPem: string; keyPem: string; serial: string; notAfter: number } | undefined;
}

/** The self-signed fallback certificate the fleet shares, kept so an edge can start while Redis is away. */
export interface LocalPemPair {
  certPem: string;
  keyPem: string;
}

export interface LocalCertificateStoreOptions {
  /** A directory (created 0700; its files are 0600). */
  path: string;
  /**
   * The size the store is kept under: the oldest-served certificates are evicted once the
   * database's pages pass {@link HIGH_WATER} of it. Also LMDB's initial map size.
   */
  maxBytes: number;
  /**
   * The deployment the certificates belong to (CERTFLEET_PREFIX): a store written for another
   * one is refused, never served from.
   */
  owner: string;
  /** A name's served time is written at most this often (default 10 minutes); it orders eviction. */
  servedResolutionMs?: number;
  /** How often noted served times are written, batched (default 10 s; 0: only by `flushServed`). */
  servedFlushMs?: number;
  /**
   * Seals the private keys written (`local-cert-key:<name>:<type>`, `local-fallback-key`) and
   * opens those read; a key written before sealing is read as it is and sealed when rewritten.
   */
  keyring: Keyring;
  /** Told how many certificates an eviction removed to stay under `maxBytes`. */
  onEvicted?: (count: number) => void;
  clock?: () => number;
}

/** Eviction starts once the pages in use pass this share of `maxBytes`... */
export const HIGH_WATER = 0.85;
/**
 * ...and removes the oldest-served until they are under this share. The margin leaves LMDB the
 * free pages a write needs (it never overwrites a page a reader may still see), so the file
 * stays within `maxBytes`.
 */
export const LOW_WATER = 0.7;

/** Names whose last served-time write one process remembers (older ones may be written again early). */
const MAX_REMEMBERED = 100_000;

/** Why the store refused to open: the directory belongs to another deployment. */
export class LocalStoreOwnerError extends Error {
  constructor(
    readonly path: string,
    readonly owner: string,
    readonly wanted: string,
  ) {
    super(
      `the local certificate store at ${path} holds the certificates of "${owner}", not "${wanted}": give each deployment its own directory, or delete this one`,
    );
    this.name = 'LocalStoreOwnerError';
  }
}

type Stored = LocalCertificate & { storedAt: number };

/** What a local record's key is sealed for: its name and key type, so a record moved to another name does not open. */
const certKeyPurpose = (name: string, keyType: 'ecdsa' | 'rsa') => `local-cert-key:${name}:${keyType}`;
const FALLBACK_KEY_PURPOSE = 'local-fallback-key';
type OrderKey = [number, string];

/**
 * The certificates one edge has served, on local disk: an LMDB environment (memory-mapped, one
 * file) that every process of the edge opens, so a name any of them served is at hand to all
 * of them, and to the next edge process started on this disk, without asking Redis.
 *
 * Reads are synchronous and take microseconds (a B-tree lookup in mapped memory: 6.5 µs per
 * read, JSON decoding included, over 20,000 names on Node 24): fit for the TLS handshake path.
 * A certificate with its key takes 4.3 KB of pages (one 4 KB overflow page and its share of
 * the indexes). Writes are asynchronous
 * and batched by lmdb-js off the main thread; LMDB serialises writers across processes.
 * Certificates past `notAfter` are never returned. Bounded by `maxBytes`: the certificates
 * served longest ago are evicted first.
 *
 * Private keys are sealed with the fleet's at-rest key (CERTFLEET_KEK_FILE), each for its name
 * and key type, so the file (a backup, a copied disk) gives none away; opening one on read costs
 * a few microseconds (AES-GCM over ~250 bytes). Certificates are public and kept in clear.
 */
export class LocalCertificateStore {
  private readonly clock: () => number;
  private readonly servedResolutionMs: number;
  /** name -> when this process last wrote (or saw written) its served time. */
  private readonly touched = new Map<string, number>();
  private pendingServed = new Set<string>();
  private evicting: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly root: RootDatabase,
    /** name -> certificate */
    private readonly certs: Database<Stored, string>,
    /** name -> when this edge last served it */
    private readonly servedAt: Database<number, string>,
    /** [servedAt, name] -> 1: eviction order, oldest first */
    private readonly order: Database<number, OrderKey>,
    private readonly meta: Database<unknown, string>,
    private readonly options: LocalCertificateStoreOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.servedResolutionMs = options.servedResolutionMs ?? 10 * 60_000;
    const flushMs = options.servedFlushMs ?? 10_000;
    if (flushMs > 0) {
      this.timer = setInterval(() => void this.flushServed().catch(() => undefined), flushMs);
      this.timer.unref();
    }
  }

  /** Opens (creating when missing) the store at `options.path`. Throws when it cannot, or when it is another deployment's. */
  static open(options: LocalCertificateStoreOptions): LocalCertificateStore {
    preparePrivateDirectory(options.path);
    const root = open({ path: options.path, mapSize: options.maxBytes, maxDbs: 8, encoding: 'json' });
    const store = new LocalCertificateStore(
      root,
      root.openDB<Stored, string>('certificates', { encoding: 'json' }),
      root.openDB<number, string>('served-at', { encoding: 'json' }),
      root.openDB<number, OrderKey>('served-order', { encoding: 'json' }),
      root.openDB<unknown, string>('meta', { encoding: 'json' }),
      options,
    );
    const owner = store.meta.get('owner');
    if (owner === undefined) store.meta.putSync('owner', options.owner);
    else if (owner !== options.owner) {
      void root.close();
      throw new LocalStoreOwnerError(options.path, String(owner), options.owner);
    }
    return store;
  }

  /** The unexpired certificate for `name`, if this edge holds one. Synchronous, no network. */
  get(name: string): LocalCertificate | undefined {
    const stored = this.certs.get(name);
    if (!stored) return undefined;
    const now = this.clock();
    if (stored.notAfter <= now) {
      void this.remove(name).catch(() => undefined);
      return undefined;
    }
    const { storedAt: _storedAt, rsa, keyPem, ...cert } = stored;
    const main = { ...cert, keyPem: this.open(keyPem, certKeyPurpose(name, 'ecdsa')) };
    // An expired RSA twin is dropped: clients without ECDSA get the fallback rather than it.
    return rsa && rsa.notAfter > now ? { ...main, rsa: { ...rsa, keyPem: this.open(rsa.keyPem, certKeyPurpose(name, 'rsa')) } } : main;
  }

  /** Whether an unexpired certificate for `name` is held. */
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /**
   * Keeps `cert` (replacing what was held for its name), counted as served now; then evicts the
   * oldest-served if the store has grown past its bound. An expired certificate is not kept.
   */
  async put(cert: LocalCertificate): Promise<void> {
    const now = this.clock();
    if (cert.notAfter <= now) return;
    const stored: Stored = {
      name: cert.name,
      chainPem: cert.chainPem,
      keyPem: this.options.keyring.seal(cert.keyPem, certKeyPurpose(cert.name, 'ecdsa')),
      serial: cert.serial,
      notAfter: cert.notAfter,
      storedAt: now,
    };
    if (cert.rsa) stored.rsa = { ...cert.rsa, keyPem: this.options.keyring.seal(cert.rsa.keyPem, certKeyPurpose(cert.name, 'rsa')) };
    await this.root.transaction(() => {
      this.certs.put(cert.name, stored);
      this.setServedAt(cert.name, now);
    });
    this.remember(cert.name, now);
    await this.evictIfFull();
  }

  /** Forgets `name`; says whether it was held. */
  async remove(name: string): Promise<boolean> {
    if (!this.certs.doesExist(name)) return false;
    return this.root.transaction(() => {
      const held = this.certs.doesExist(name);
      const old = this.servedAt.get(name);
      if (old !== undefined) this.order.remove([old, name]);
      this.servedAt.remove(name);
      this.certs.remove(name);
      return held;
    });
  }

  /**
   * Notes that `name` was served (for eviction order). On the handshake path: no I/O; at most
   * one write per name per `servedResolutionMs` leaves this process, batched.
   */
  noteServed(name: string): void {
    const last = this.touched.get(name);
    if (last !== undefined && this.clock() - last < this.servedResolutionMs) return;
    if (this.pendingServed.size < MAX_REMEMBERED) this.pendingServed.add(name);
  }

  /** Writes the served times noted since the last flush (also done on a timer). */
  async flushServed(): Promise<void> {
    if (this.pendingServed.size === 0) return;
    const names = [...this.pendingServed];
    this.pendingServed = new Set();
    const now = this.clock();
    await this.root.transaction(() => {
      for (const name of names) {
        const old = this.servedAt.get(name);
        // Not held (evicted, or never stored), or another process of the edge wrote it lately.
        if (old !== undefined && now - old >= this.servedResolutionMs) this.setServedAt(name, now);
      }
    });
    for (const name of names) this.remember(name, now);
  }

  /** The fleet's fallback certificate as last seen, if any. */
  fallback(): LocalPemPair | undefined {
    const pair = this.meta.get('fallback') as LocalPemPair | undefined;
    return pair?.certPem && pair.keyPem ? { certPem: pair.certPem, keyPem: this.open(pair.keyPem, FALLBACK_KEY_PURPOSE) } : undefined;
  }

  async saveFallback(pair: LocalPemPair): Promise<void> {
    const held = this.meta.get('fallback') as LocalPemPair | undefined;
    // Written again when it changed, or is not sealed under the current key.
    if (
      held?.certPem === pair.certPem &&
      !this.options.keyring.needsSealing(held.keyPem) &&
      this.open(held.keyPem, FALLBACK_KEY_PURPOSE) === pair.keyPem
    )
      return;
    await this.meta.put('fallback', { certPem: pair.certPem, keyPem: this.options.keyring.seal(pair.keyPem, FALLBACK_KEY_PURPOSE) });
  }

  /** Certificates held (expired ones included until they are read or evicted). */
  get count(): number {
    // LMDB's own count (O(1)), not getCount(), which walks every key.
    return (this.certs.getStats() as { entryCount: number }).entryCount;
  }

  /** Bytes of the database pages in use (LMDB's own count): what `maxBytes` bounds. */
  get usedBytes(): number {
    let pages = 0;
    let pageSize = 4096;
    for (const db of [this.certs, this.servedAt, this.order, this.meta]) {
      const stats = db.getStats() as { pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number };
      pageSize = stats.pageSize;
      pages += stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages;
    }
    return pages * pageSize;
  }

  /** Evicts the oldest-served certificates while the store is past {@link HIGH_WATER} of its bound. */
  evictIfFull(): Promise<void> {
    this.evicting ??= this.evict().finally(() => (this.evicting = undefined));
    return this.evicting;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flushServed().catch(() => undefined);
    await this.evicting;
    await this.root.close();
  }

  private async evict(): Promise<void> {
    const { maxBytes } = this.options;
    const used = this.usedBytes;
    if (used <= maxBytes * HIGH_WATER) return;
    const count = this.count;
    if (count === 0) return;
    // Certificates are of a size (one chain, one key): evict the share of them that is over.
    const target = Math.min(count, Math.ceil(((used - maxBytes * LOW_WATER) / used) * count));
    const evicted = await this.root.transaction(() => {
      let removed = 0;
      for (const key of this.order.getKeys({ limit: target })) {
        const [, name] = key;
        this.order.remove(key);
        this.servedAt.remove(name);
        this.certs.remove(name);
        this.touched.delete(name);
        removed += 1;
      }
      return removed;
    });
    if (evicted > 0) this.options.onEvicted?.(evicted);
  }

  /** A stored key's PEM: opened when sealed, as it is when written before sealing. */
  private open(keyPem: string, purpose: string): string {
    return isSealed(keyPem) ? this.options.keyring.open(keyPem, purpose).toString() : keyPem;
  }

  /** Inside a write transaction: moves `name` to `at` in the eviction order. */
  private setServedAt(name: string, at: number): void {
    const old = this.servedAt.get(name);
    if (old !== undefined) this.order.remove([old, name]);
    this.servedAt.put(name, at);
    this.order.put([at, name], 1);
  }

  private remember(name: string, at: number): void {
    this.touched.delete(name);
    this.touched.set(name, at);
    if (this.touched.size > MAX_REMEMBERED) this.touched.delete(this.touched.keys().next().value as string);
  }
}
