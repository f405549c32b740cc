import { isIP } from 'node:net';
import { describeRefusal, type AddressPolicy } from '@certfleet/config';
import { errorMessage, type Logger } from '@certfleet/observability';

/** Looks a host name up; resolves with its addresses (possibly none), rejects when no answer could be had. */
export type ResolveHost = (host: string) => Promise<string[]>;

export interface UpstreamPoolOptions {
  /** The upstream: scheme, host and port (a path is the caller's business). */
  url: URL;
  resolve: ResolveHost;
  /** How often the host is resolved again; TTLs are not waited for, so a change is seen within this long. */
  resolveIntervalMs: number;
  /** Addresses kept from an answer (the first ones, in the order the resolver gave). */
  maxIps: number;
  /** How long an address that failed a connection is set aside. */
  failTimeoutMs: number;
  logger: Logger;
  /**
   * Which addresses may be dialled. Applied to the IP literal and to every answer, the first and
   * each re-resolution, so a host name rebound onto a refused address loses it at the next one.
   * Unset: every address is used (UPSTREAM_URL's pool: the operator chose it).
   */
  addressPolicy?: AddressPolicy;
  /** Milliseconds since the epoch; injected so tests move time without sleeping. */
  clock?: () => number;
}

/**
 * The addresses behind one upstream URL: re-resolved on a schedule, used round robin, an
 * address that failed set aside for a while (nginx's jdomain, with the failure handling of an
 * upstream block). `pick` is synchronous and does no I/O: it runs on every proxied request.
 */
export interface UpstreamPool {
  readonly url: URL;
  /** Resolves once the first resolution has been tried (at once for an IP literal). */
  ready(): Promise<void>;
  /**
   * The next address, round robin, skipping those set aside and `avoid`. When every address
   * is set aside, the one whose time out ends first (a pool never refuses outright for that:
   * the address may be back). Undefined when there is no address at all, or none but `avoid`
   * that is not set aside (a retry goes to another, healthy address or not at all).
   */
  pick(avoid?: string): string | undefined;
  /** The address refused or timed out a connection: set it aside for failTimeoutMs. */
  setAside(address: string): void;
  /** The current addresses. */
  addresses(): readonly string[];
  /** Resolves the host now (the schedule calls this). */
  refresh(): Promise<void>;
  /** Starts re-resolving every resolveIntervalMs (nothing to do for an IP literal). */
  start(): void;
  stop(): void;
}

/** The host of a URL without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** The port a URL is dialled on. */
function portOf(url: URL): number {
  return Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
}

// Refused addresses already logged, per pool; a hostile zone can answer with many, so the memory
// of them is bounded (past it, an address may be logged once more).
const MAX_REFUSALS_REMEMBERED = 256;

export function createUpstreamPool(options: UpstreamPoolOptions): UpstreamPool {
  const clock = options.clock ?? Date.now;
  const host = hostOf(options.url);
  const literal = isIP(host) !== 0;
  const log = options.logger.child({ upstream: options.url.host });
  const port = portOf(options.url);
  const refusalsLogged = new Set<string>();
  /** The addresses the policy lets through; each refused one is logged once (a warn: someone pointed a route there). */
  const admitted = (addresses: string[]): string[] =>
    addresses.filter((address) => {
      const refusal = options.addressPolicy?.refusal(address, port);
      if (!refusal) return true;
      if (!refusalsLogged.has(address)) {
        if (refusalsLogged.size >= MAX_REFUSALS_REMEMBERED) refusalsLogged.clear();
        refusalsLogged.add(address);
        const fix = refusal.allowable ? 'list its network in UPSTREAM_ALLOWED_NETWORKS to allow it' : 'never allowed for a route';
        log.warn({ address, range: refusal.range, why: describeRefusal(refusal), fix }, 'upstream address refused');
      }
      return false;
    });
  let current: string[] = literal ? admitted([host]) : [];
  let next = 0;
  const asideUntil = new Map<string, number>();
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let first: Promise<void> | undefined;

  const refresh = async (): Promise<void> => {
    if (literal) return;
    let found: string[];
    try {
      found = await options.resolve(host);
      if (found.length === 0) throw new Error(`no A or AAAA records for ${host}`);
    } catch (error) {
      // Keep the last good addresses: a resolver outage must not take the upstream down with it.
      if (!failing) {
        log.warn({ err: errorMessage(error), kept: current }, 'upstream resolution failed; keeping the last addresses');
        failing = true;
      }
      return;
    }
    if (failing) log.info({ addresses: found.slice(0, options.maxIps) }, 'upstream resolution recovered');
    failing = false;
    // Refused addresses go before the count: they must not take the place of usable ones.
    const kept = admitted([...new Set(found)]).slice(0, options.maxIps);
    if (kept.join(',') !== current.join(',')) {
      log.info({ addresses: kept, previous: current }, 'upstream addresses changed');
      current = kept;
      for (const address of asideUntil.keys()) if (!kept.includes(address)) asideUntil.delete(address);
    }
  };

  const isAside = (address: string, now: number) => (asideUntil.get(address) ?? 0) > now;

  return {
    url: options.url,
    ready() {
      first ??= refresh();
      return first;
    },
    pick(avoid) {
      const now = clock();
      const count = current.length;
      for (let i = 0; i < count; i += 1) {
        const address = current[(next + i) % count] as string;
        if (address === avoid || isAside(address, now)) continue;
        next = (next + i + 1) % count;
        return address;
      }
      if (avoid !== undefined) return undefined;
      // Every address is set aside: try the one that comes back first rather than fail at once.
      return [...current].sort((a, b) => (asideUntil.get(a) ?? 0) - (asideUntil.get(b) ?? 0))[0];
    },
    setAside(address) {
      const now = clock();
      if (!isAside(address, now)) log.warn({ address, forMs: options.failTimeoutMs }, 'upstream address failed; set aside');
      asideUntil.set(address, now + options.failTimeoutMs);
    },
    addresses: () => current,
    refresh,
    start() {
      if (literal || timer) return;
      first ??= refresh();
      const tick = () => {
        timer = setTimeout(() => void refresh().finally(() => timer && tick()), options.resolveIntervalMs);
        timer.unref();
      };
      tick();
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
