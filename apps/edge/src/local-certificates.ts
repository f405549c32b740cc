import { ConfigError } from '@certfleet/config';
import { LocalCertificateStore, LocalStoreOwnerError, type LocalCertificate } from '@certfleet/local-store';
import { errorMessage, type Logger } from '@certfleet/observability';
import type { Keyring } from '@certfleet/sealing';
import type { CertificateStore, StoredCertificate } from '@certfleet/store';

/**
 * How long a process goes on serving a name from the local store after Redis last confirmed it
 * (see {@link createLocalCertificates}). A process only reads the local store on a miss in
 * memory, so this bounds extra Redis reads for names that keep falling out of memory.
 */
export const LOCAL_RECHECK_MS = 5 * 60_000;
/** Names one process remembers as confirmed (or still to check); past it the oldest are checked again early (or not). */
const MAX_CONFIRMED = 100_000;
/** How often names served while Redis could not be asked are checked, once it answers again. */
const LOCAL_PENDING_CHECK_MS = 15_000;

/** Opens EDGE_LOCAL_STORE_PATH, or says what the operator must change. */
export function openLocalStore(
  settings: { path: string; maxBytes: number },
  prefix: string,
  keyring: Keyring,
  onEvicted: (count: number) => void,
): LocalCertificateStore {
  try {
    return LocalCertificateStore.open({ path: settings.path, maxBytes: settings.maxBytes, owner: prefix, keyring, onEvicted });
  } catch (error) {
    const message =
      error instanceof LocalStoreOwnerError
        ? `EDGE_LOCAL_STORE_PATH: ${error.message}`
        : `EDGE_LOCAL_STORE_PATH (${settings.path}) could not be opened (${errorMessage(error)}): make it a directory this user may create and write, or set EDGE_LOCAL_STORE_MB=0 to run without a local store`;
    throw Object.assign(new ConfigError('EDGE_LOCAL_STORE_PATH', message), { cause: error });
  }
}

export interface LocalCertificatesDeps {
  store: LocalCertificateStore;
  /** Reads for the handshake path: a miss in memory and in the local store. */
  certificates: Pick<CertificateStore, 'get'>;
  /** Reads off the handshake path: checking a certificate served from the local store. */
  background: Pick<CertificateStore, 'get'>;
  /** Whether Redis is connected now (a check is not even tried otherwise). */
  redisConnected: () => boolean;
  /** The name's certificate in Redis is not the one just served from the local store: forget it in memory. */
  onReplaced: (name: string) => void;
  /** Also run when a local copy is checked: learn a tls-alpn-01 challenge pub/sub told before this process started. */
  onChecked?: (name: string) => void;
  logger: Logger;
  clock?: () => number;
}

/**
 * The edge's local store between its memory and Redis.
 *
 * Freshness. A handshake that misses memory is served from the local store at once, and only
 * then, in the background, is the local copy compared with Redis (its serial, and the RSA
 * twin's): a replacement is kept and takes over from the next handshake, a certificate gone
 * from Redis is dropped. Each process checks a name the first time it serves it from the local
 * store and again at most every {@link LOCAL_RECHECK_MS}, so a certificate replaced while the
 * edge was down (its "changed" message lost) is caught on the first handshake after the
 * restart, which alone may still get the old one: still valid, since certificates are replaced
 * long before they expire. While the edge runs, the issuers' "changed" messages drop the local
 * copy at once (every process handles them; removing twice is harmless).
 *
 * Why not read Redis first while it is up, and the local store only when it is not? Because
 * "up" cannot be known without waiting: a hung Redis (SIGSTOP, a stalled network) keeps its
 * connection ready, so every miss in memory would wait out the command timeout before falling
 * back, in every process, for every name. The handshake path never waits on Redis for a name
 * this edge holds; the price is one handshake per process and name after a restart that may
 * get a replaced (still valid) certificate. A name served while Redis could not be asked (an
 * edge restarted during an outage) is checked once Redis answers again (when its connection
 * is ready again, else within {@link LOCAL_PENDING_CHECK_MS}): it may sit in memory by then,
 * where nothing else would catch the replacement.
 */
export function createLocalCertificates(deps: LocalCertificatesDeps) {
  const clock = deps.clock ?? Date.now;
  /** name -> when Redis last agreed with the local copy, in this process */
  const confirmed = new Map<string, number>();
  /** Reads of Redis in flight per name; `stale` once a "changed" message arrived meanwhile. */
  const reading = new Map<string, { stale: boolean }>();
  /** Names served from the local store whose check could not be made (Redis away). */
  const unchecked = new Set<string>();
  let failing = false;

  const confirm = (name: string) => {
    confirmed.delete(name);
    confirmed.set(name, clock());
    if (confirmed.size > MAX_CONFIRMED) confirmed.delete(confirmed.keys().next().value as string);
  };
  const postpone = (name: string) => {
    unchecked.add(name);
    if (unchecked.size > MAX_CONFIRMED) unchecked.delete(unchecked.keys().next().value as string);
  };
  const logFailure = (error: unknown, what: string) => {
    if (!failing) deps.logger.warn({ err: errorMessage(error) }, what);
    failing = true;
  };

  /** Keeps what Redis holds for a name, unless a "changed" message for it came during the read. */
  async function fromRedis(
    name: string,
    read: () => Promise<StoredCertificate | null>,
  ): Promise<{ stored: StoredCertificate | null; fresh: boolean }> {
    const flight = { stale: false };
    reading.set(name, flight);
    try {
      const stored = await read();
      return { stored, fresh: !flight.stale };
    } finally {
      if (reading.get(name) === flight) reading.delete(name);
    }
  }

  async function keep(stored: StoredCertificate): Promise<void> {
    const { name, chainPem, keyPem, serial, notAfter, rsa } = stored;
    try {
      await deps.store.put({ name, chainPem, keyPem, serial, notAfter, rsa });
      failing = false;
    } catch (error) {
      logFailure(error, 'could not write to the local certificate store; serving goes on without it');
    }
  }

  const checking = new Set<string>();
  async function check(name: string, held: LocalCertificate): Promise<void> {
    if (checking.has(name)) return;
    if (!deps.redisConnected()) return postpone(name);
    checking.add(name);
    unchecked.delete(name);
    deps.onChecked?.(name);
    try {
      const { stored, fresh } = await fromRedis(name, () => deps.background.get(name));
      if (!fresh) return;
      if (!stored) {
        await deps.store.remove(name);
        deps.onReplaced(name);
        deps.logger.info({ domain: name, serial: held.serial }, 'certificate served from the local store is no longer in Redis; dropped');
      } else if (stored.serial !== held.serial || stored.rsa?.serial !== held.rsa?.serial) {
        await keep(stored);
        deps.onReplaced(name);
        deps.logger.info(
          { domain: name, was: held.serial, now: stored.serial },
          'certificate served from the local store was replaced in Redis; the new one is served from now on',
        );
      }
      confirm(name);
    } catch (error) {
      // Redis away: the local copy goes on being served; checked again once Redis answers.
      postpone(name);
      deps.logger.debug({ domain: name, err: errorMessage(error) }, 'could not check a local certificate against Redis');
    } finally {
      checking.delete(name);
    }
  }

  /** Checks the names served while Redis could not be asked, one at a time, while it is connected. */
  async function checkPending(): Promise<void> {
    for (const name of [...unchecked]) {
      if (!deps.redisConnected()) return;
      unchecked.delete(name);
      const held = deps.store.get(name);
      if (held) await check(name, held);
    }
  }
  let pendingChecks: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (unchecked.size > 0 && deps.redisConnected()) pendingChecks ??= checkPending().finally(() => (pendingChecks = undefined));
  }, LOCAL_PENDING_CHECK_MS);
  timer.unref();

  return {
    /**
     * The handshake path: the unexpired certificate this edge holds for `name`, synchronously,
     * with no network I/O; starts a check against Redis when one is due (see above).
     */
    get(name: string): LocalCertificate | undefined {
      let held: LocalCertificate | undefined;
      try {
        held = deps.store.get(name);
      } catch (error) {
        logFailure(error, 'could not read the local certificate store; asking Redis');
        return undefined;
      }
      if (!held) return undefined;
      const last = confirmed.get(name);
      if (last === undefined || clock() - last >= LOCAL_RECHECK_MS) void check(name, held);
      return held;
    },
    /** Redis's certificate for `name` (the load of a miss in memory and locally), kept locally when found. */
    async load(name: string): Promise<StoredCertificate | null> {
      const { stored, fresh } = await fromRedis(name, () => deps.certificates.get(name));
      if (stored && fresh) {
        confirm(name);
        void keep(stored);
      }
      return stored;
    },
    /** An issuer's "certificate changed" message: the local copy is dropped, a read in flight not kept. */
    changed(name: string): void {
      confirmed.delete(name);
      const flight = reading.get(name);
      if (flight) flight.stale = true;
      deps.store.remove(name).catch((error: unknown) => logFailure(error, 'could not drop a changed certificate from the local store'));
    },
    /** Whether the edge holds an unexpired certificate for `name` (a resumed session's name, Redis away). */
    has(name: string): boolean {
      try {
        return deps.store.has(name);
      } catch {
        return false;
      }
    },
    /** A handshake was served a certificate for `name` (eviction keeps the names served lately). */
    noteServed(name: string): void {
      deps.store.noteServed(name);
    },
    /** Checks now the names that could not be checked (also done every {@link LOCAL_PENDING_CHECK_MS}). */
    checkPending,
    stop(): void {
      clearInterval(timer);
    },
  };
}
