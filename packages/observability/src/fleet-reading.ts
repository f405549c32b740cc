/**
 * What the fleet looks like at one moment, read from Redis's indexes and the queue at scrape
 * time, for the certificate, queue and budget metrics. Every read is a count (O(log n)) or
 * bounded by `perHostnameMax`: a scrape at a million hostnames costs what it costs at ten, and
 * no series is made per hostname beyond the few named ones.
 *
 * The sources are described by shape (the store's `createMetricReads`, a BullMQ `Queue`), so this
 * package needs neither, and the aggregation is tested with fakes.
 */

/** The store's metric reads (`@certfleet/store` `createMetricReads`), as far as they are used here. */
export interface FleetIndexReads {
  certificateCounts(now: number): Promise<{ inventory: number; expired: number; scheduled: number; due: number }>;
  expiringWithin(now: number, boundsSeconds: readonly number[]): Promise<number[]>;
  soonestExpiring(limit: number): Promise<{ name: string; notAfter: number }[]>;
  notAfterOf(names: readonly string[]): Promise<(number | null)[]>;
  statesOf(names: readonly string[]): Promise<(string | null)[]>;
  bucketTokens(key: string, spec: { capacity: number; refillIntervalMs: number }, now: number): Promise<number>;
  caPaused(ca: string): Promise<boolean>;
  hostnameCounts(): Promise<Record<string, number>>;
}

/** A BullMQ queue, as far as it is read here. */
export interface FleetQueueReads {
  readonly name: string;
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
  getCountsPerPriority(priorities: number[]): Promise<Record<string, number>>;
  /** Newest failed jobs first (BullMQ's `failed` set keeps them for a day). */
  getFailed(start: number, end: number): Promise<({ data?: { name?: unknown } } | undefined)[]>;
}

/** One CA budget whose tokens are exported (a CA's order and renewal buckets; never per-domain or per-name ones). */
export interface FleetBudget {
  ca: string;
  /** `orders`, `renewals`. */
  bucket: string;
  key: string;
  spec: { capacity: number; refillIntervalMs: number };
}

export interface FleetSources {
  reads: FleetIndexReads;
  queue: FleetQueueReads;
  /** Label -> priority number: the job catalog's PRIORITY (visitor 1, provision 5, renewal 10). */
  priorities: Readonly<Record<string, number>>;
  /** CA budgets to export; none on a role that does not know the CAs (the dashboard). */
  budgets?: readonly FleetBudget[];
  /** CA names whose fleet-wide pause is exported. */
  cas?: readonly string[];
  /** Hostnames with series of their own, at most (METRICS_PER_HOSTNAME_MAX). */
  perHostnameMax: number;
}

/** Seconds until expiry that bound the histogram's buckets: expired, a day, 3, 7, 14, 21, 30, 45, 60, 90, 180 days, 400 days. */
export const EXPIRY_BOUNDS_SECONDS: readonly number[] = [0, 1, 3, 7, 14, 21, 30, 45, 60, 90, 180, 400].map((days) => days * 86_400);

/** Job states exported with priority `any` (prioritized jobs are exported per priority instead). */
const QUEUE_STATES = ['active', 'wait', 'delayed', 'failed', 'completed', 'paused', 'waiting-children'];

export interface FleetReading {
  /** state -> certificates: active, expired, retired, renewal_due, renewing. */
  certificates: Record<string, number>;
  /** Cumulative counts per bound of {@link EXPIRY_BOUNDS_SECONDS}, and the total (`+Inf`). */
  expiry: { boundsSeconds: readonly number[]; cumulative: number[]; total: number };
  /** The named hostnames: the soonest-expiring ones and those whose latest job failed. */
  hostnames: { name: string; notAfterSeconds: number; renewalInFlight: boolean }[];
  queue: { queue: string; state: string; priority: string; count: number }[];
  budgets: { ca: string; bucket: string; tokens: number; capacity: number }[];
  caPaused: { ca: string; paused: boolean }[];
  /** Registered hostnames by status (the hostname registry's indexes): pending, active, failed, retired, total. */
  hostnameStatuses: Record<string, number>;
}

export async function readFleet(sources: FleetSources, now: number): Promise<FleetReading> {
  const { reads, queue } = sources;
  const priorityNumbers = Object.values(sources.priorities);
  const [counts, cumulative, perPriority, jobCounts, hostnames, budgets, caPaused, hostnameStatuses] = await Promise.all([
    reads.certificateCounts(now),
    reads.expiringWithin(now, EXPIRY_BOUNDS_SECONDS),
    queue.getCountsPerPriority(priorityNumbers),
    queue.getJobCounts(...QUEUE_STATES),
    namedHostnames(sources),
    Promise.all(
      (sources.budgets ?? []).map(async (budget) => ({
        ca: budget.ca,
        bucket: budget.bucket,
        tokens: await reads.bucketTokens(budget.key, budget.spec, now),
        capacity: budget.spec.capacity,
      })),
    ),
    Promise.all((sources.cas ?? []).map(async (ca) => ({ ca, paused: await reads.caPaused(ca) }))),
    reads.hostnameCounts(),
  ]);
  const queued = Object.entries(sources.priorities).map(([label, priority]) => ({
    queue: queue.name,
    state: 'prioritized',
    priority: label,
    count: perPriority[String(priority)] ?? 0,
  }));
  const others = QUEUE_STATES.map((state) => ({ queue: queue.name, state, priority: 'any', count: jobCounts[state] ?? 0 }));
  const renewalPriority = sources.priorities.renewal;
  const renewing = renewalPriority === undefined ? 0 : (perPriority[String(renewalPriority)] ?? 0);
  return {
    certificates: certificateStates(counts, renewing),
    expiry: { boundsSeconds: EXPIRY_BOUNDS_SECONDS, cumulative: monotonic(cumulative, counts.inventory), total: counts.inventory },
    hostnames,
    queue: [...queued, ...others],
    budgets,
    caPaused,
    hostnameStatuses,
  };
}

/**
 * Certificates by state, from index counts alone:
 * - `expired`: in the inventory with notAfter passed;
 * - `retired`: in the inventory but no longer scheduled for renewal (served until they expire;
 *   the renewer removes them once expired);
 * - `active`: the rest of the inventory (unexpired, renewed when due);
 * - `renewal_due`: scheduled certificates due for renewal that the renewer has not enqueued yet
 *   (it postpones what it enqueues, so a growing number means renewals are not keeping up);
 * - `renewing`: renewal jobs waiting in the queue.
 * The two indexes are written one after the other (see keys.ts), so a count can be off by the
 * few writes in flight; never below zero.
 */
export function certificateStates(
  counts: { inventory: number; expired: number; scheduled: number; due: number },
  renewing: number,
): Record<string, number> {
  const retired = Math.max(0, counts.inventory - counts.scheduled);
  return {
    active: Math.max(0, counts.inventory - counts.expired - retired),
    expired: counts.expired,
    retired,
    renewal_due: counts.due,
    renewing,
  };
}

/**
 * The hostnames with series of their own, at most `perHostnameMax`: those whose latest issuance
 * failed and have a certificate (a failing renewal is the one to watch) first, then the
 * soonest-expiring certificates not retired. Each with whether an order for it is under way.
 */
async function namedHostnames(sources: FleetSources): Promise<FleetReading['hostnames']> {
  const max = sources.perHostnameMax;
  if (max <= 0) return [];
  const [failedJobs, soonest] = await Promise.all([sources.queue.getFailed(0, max - 1), sources.reads.soonestExpiring(max)]);
  const failing = [...new Set(failedJobs.flatMap((job) => (typeof job?.data?.name === 'string' ? [job.data.name] : [])))];
  const failingNotAfter = await sources.reads.notAfterOf(failing);
  const picked = pickHostnames(
    failing.flatMap((name, i) => {
      const notAfter = failingNotAfter[i];
      return notAfter === null || notAfter === undefined ? [] : [{ name, notAfter }];
    }),
    soonest,
    max,
  );
  const states = await sources.reads.statesOf(picked.map(({ name }) => name));
  return picked.map(({ name, notAfter }, i) => ({
    name,
    notAfterSeconds: Math.floor(notAfter / 1000),
    renewalInFlight: states[i] === 'issuing',
  }));
}

/**
 * Histogram buckets must not decrease nor pass the total; counts read by separate commands can,
 * by the certificates saved between two of them.
 */
export function monotonic(cumulative: readonly number[], total: number): number[] {
  let floor = 0;
  return cumulative.map((count) => {
    floor = Math.min(total, Math.max(floor, count));
    return floor;
  });
}

/** Failing ones first, then the soonest, each name once, at most `max`. */
export function pickHostnames<T extends { name: string }>(failing: readonly T[], soonest: readonly T[], max: number): T[] {
  const picked = new Map<string, T>();
  for (const entry of [...failing, ...soonest]) {
    if (picked.size >= max) break;
    if (!picked.has(entry.name)) picked.set(entry.name, entry);
  }
  return [...picked.values()];
}
