import { Counter, Gauge, type Metric, type MetricValue, type Registry } from 'prom-client';
import { readFleet, type FleetReading, type FleetSources } from './fleet-reading.js';

export interface FleetMetricsOptions {
  sources: FleetSources;
  /**
   * A reading is shared by every scrape within this long (default 5 s): several Prometheus
   * servers, or one scraping issuers and the dashboard, cost one set of counts, not one each.
   */
  cacheMs?: number;
  /**
   * A reading not done by then is given up (default 2 s), counted as an error, and the scrape
   * answers without the fleet series: while Redis is unreachable a BullMQ connection queues
   * commands without end, and /metrics (the ACME and edge counters with it) must still answer.
   */
  readTimeoutMs?: number;
  clock?: () => number;
}

/**
 * Registers the fleet's certificate, queue and budget metrics on `registry`, each computed at
 * scrape time from one shared {@link readFleet} reading:
 * `certfleet_certificates{state}`, `certfleet_certificate_expiry_seconds` (a histogram of
 * seconds until expiry over the inventory, from bucket counts: no `_sum`, which would take a
 * scan), `certfleet_certificate_expiration_timestamp_seconds{hostname}` and
 * `certfleet_certificate_renewal_in_flight{hostname}` for at most `perHostnameMax` names,
 * `certfleet_queue_jobs{queue,state,priority}`, `certfleet_budget_tokens{ca,bucket}` and
 * `certfleet_budget_capacity{ca,bucket}`, `certfleet_ca_paused{ca}`, `certfleet_hostnames{status}`.
 * A reading that fails leaves these series out of that scrape and counts
 * `certfleet_fleet_metrics_read_errors_total`; the rest of the endpoint still answers.
 */
export function registerFleetMetrics(registry: Registry, options: FleetMetricsOptions): void {
  const clock = options.clock ?? Date.now;
  const cacheMs = options.cacheMs ?? 5_000;
  const readTimeoutMs = options.readTimeoutMs ?? 2_000;
  const errors = new Counter({
    name: 'certfleet_fleet_metrics_read_errors_total',
    help: 'Scrapes whose reading of the certificate indexes, queue or budgets from Redis failed (those series were left out)',
    registers: [registry],
    // Waits for this scrape's reading, so that its failure is counted in the same scrape.
    async collect() {
      await reading();
    },
  });
  let cached: { at: number; settled: boolean; reading: Promise<FleetReading | undefined> } | undefined;
  // Every collector of one scrape asks at once: they, and any scrape meanwhile, share the read in
  // flight, and then its result for `cacheMs`.
  const reading = (): Promise<FleetReading | undefined> => {
    const now = clock();
    if (cached && (!cached.settled || now - cached.at < cacheMs)) return cached.reading;
    const entry = {
      at: now,
      settled: false,
      reading: withTimeout(readFleet(options.sources, now), readTimeoutMs).then(
        (fleet) => {
          entry.settled = true;
          return fleet;
        },
        () => {
          errors.inc();
          // A failure is not kept: the next scrape reads again.
          if (cached === entry) cached = undefined;
          return undefined;
        },
      ),
    };
    cached = entry;
    return entry.reading;
  };

  /** A gauge set from the reading at each scrape (left empty when the reading failed). */
  const gauge = <L extends string>(
    metric: { name: string; help: string; labelNames: readonly L[] },
    fill: (set: (labels: Record<L, string>, value: number) => void, fleet: FleetReading) => void,
  ) =>
    new Gauge<L>({
      ...metric,
      registers: [registry],
      async collect() {
        const fleet = await reading();
        this.reset();
        if (fleet) fill((labels, value) => this.set(labels as never, value), fleet);
      },
    });

  gauge(
    {
      name: 'certfleet_certificates',
      help: 'Certificates by state, from index counts: active, expired, retired (served until expiry, not renewed), renewal_due (due, not yet enqueued), renewing (renewal jobs waiting)',
      labelNames: ['state'],
    },
    (set, fleet) => {
      for (const [state, count] of Object.entries(fleet.certificates)) set({ state }, count);
    },
  );
  gauge(
    {
      name: 'certfleet_certificate_expiration_timestamp_seconds',
      help: 'When a certificate expires (unix seconds), for the METRICS_PER_HOSTNAME_MAX names whose latest issuance failed or that expire soonest; not for every name',
      labelNames: ['hostname'],
    },
    (set, fleet) => {
      for (const host of fleet.hostnames) set({ hostname: host.name }, host.notAfterSeconds);
    },
  );
  gauge(
    {
      name: 'certfleet_certificate_renewal_in_flight',
      help: 'Whether an order is under way (name state issuing) for each hostname of certfleet_certificate_expiration_timestamp_seconds: 1 or 0',
      labelNames: ['hostname'],
    },
    (set, fleet) => {
      for (const host of fleet.hostnames) set({ hostname: host.name }, host.renewalInFlight ? 1 : 0);
    },
  );
  gauge(
    {
      name: 'certfleet_queue_jobs',
      help: 'Jobs in a queue by state; prioritized (waiting) jobs by priority (visitor, provision, renewal), other states with priority "any"',
      labelNames: ['queue', 'state', 'priority'],
    },
    (set, fleet) => {
      for (const row of fleet.queue) set({ queue: row.queue, state: row.state, priority: row.priority }, row.count);
    },
  );
  gauge(
    { name: 'certfleet_budget_tokens', help: "Tokens left in a CA's budget now (orders, renewals)", labelNames: ['ca', 'bucket'] },
    (set, fleet) => {
      for (const row of fleet.budgets) set({ ca: row.ca, bucket: row.bucket }, row.tokens);
    },
  );
  gauge(
    { name: 'certfleet_budget_capacity', help: "A CA budget's capacity (tokens when full)", labelNames: ['ca', 'bucket'] },
    (set, fleet) => {
      for (const row of fleet.budgets) set({ ca: row.ca, bucket: row.bucket }, row.capacity);
    },
  );
  gauge(
    {
      name: 'certfleet_ca_paused',
      help: 'Whether a CA is paused for the whole fleet (a 429 with Retry-After, an outage): 1 or 0',
      labelNames: ['ca'],
    },
    (set, fleet) => {
      for (const row of fleet.caPaused) set({ ca: row.ca }, row.paused ? 1 : 0);
    },
  );
  gauge(
    {
      name: 'certfleet_hostnames',
      help: 'Hostnames registered through the API or CLI, by status: pending, active (a certificate), failed (validation failing or refused; cooling down included), retired, and total',
      labelNames: ['status'],
    },
    (set, fleet) => {
      for (const [status, count] of Object.entries(fleet.hostnameStatuses)) set({ status }, count);
    },
  );
  registry.registerMetric(expiryHistogram(reading) as unknown as Metric);
}

/** `promise`, or a rejection once `ms` have passed; the timer never keeps the process alive. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the fleet reading took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `certfleet_certificate_expiry_seconds`: a histogram whose buckets are counts read from the
 * inventory (ZCOUNT up to each bound), not observations; prom-client's Histogram only observes,
 * so this writes the exposition itself. Expired certificates fall in `le="0"`.
 */
function expiryHistogram(reading: () => Promise<FleetReading | undefined>) {
  const metric = {
    name: 'certfleet_certificate_expiry_seconds',
    type: 'histogram',
    help: 'Seconds until expiry of the certificates in the inventory (retired ones included; expired ones in le="0"); buckets read from index counts, no _sum',
  } as const;
  const { name, help } = metric;
  return {
    ...metric,
    aggregator: 'max',
    async get() {
      const fleet = await reading();
      const values: MetricValue<string>[] = [];
      if (fleet) {
        const { boundsSeconds, cumulative, total } = fleet.expiry;
        boundsSeconds.forEach((bound, i) => {
          values.push({ metricName: `${name}_bucket`, labels: { le: bound }, value: cumulative[i] ?? 0 } as MetricValue<string>);
        });
        values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: total } as MetricValue<string>);
        values.push({ metricName: `${name}_count`, labels: {}, value: total } as MetricValue<string>);
      }
      return { name, help, type: 'histogram', aggregator: 'max', values };
    },
    reset() {},
  };
}
