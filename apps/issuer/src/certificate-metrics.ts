import { AcmeProblemError, AcmeValidationError, classifyAcmeFailure, type AcmeRequestObservation } from '@certfleet/acme';
import type { CaConfig } from '@certfleet/config';
import { Counter, Histogram, registerFleetMetrics, type FleetBudget, type FleetSources, type Registry } from '@certfleet/observability';
import type { BudgetKeys } from '@certfleet/store';
import type { IssuingCa, OrderingAccount } from './issue/deps.js';

/** Seconds an ACME request takes: Pebble answers in milliseconds, a loaded CA in seconds. */
const REQUEST_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];
/** Seconds an order takes, validation included (the CA reaches the edge, maybe several times). */
const ORDER_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];
/** `urn:ietf:params:acme:error:<type>`, the RFC 8555 problem types; anything else a CA sends is `other`. */
const PROBLEM_TYPE = /^urn:ietf:params:acme:error:([A-Za-z]{1,40})$/;

export interface IssuerMetrics {
  /** Passed to `configureAcmeHttp({ onRequest })`: counts and times every ACME request. */
  onAcmeRequest(request: AcmeRequestObservation): void;
  /** The CAs for issuance jobs, each order counted by result and timed. */
  countOrders(cas: readonly IssuingCa[]): IssuingCa[];
}

/**
 * The issuer's ACME metrics, following cert-manager's names where it has one:
 * `certfleet_http_acme_client_request_count{endpoint,method,status}` and
 * `certfleet_http_acme_client_request_duration_seconds{...}` (endpoint a path template, never a
 * URL with ids), `certfleet_acme_orders_total{ca,result}` (result `issued` or how the failure
 * was classified: validation, rate-limited, unavailable, permanent, transient),
 * `certfleet_acme_order_failures_total{ca,problem}` (the ACME problem type) and
 * `certfleet_acme_order_duration_seconds{ca,result}`.
 */
export function createIssuerMetrics(registry: Registry): IssuerMetrics {
  const requests = new Counter({
    name: 'certfleet_http_acme_client_request_count',
    help: 'Requests to ACME servers by endpoint (a path template: /acme/new-order, /my-order/:id), method and HTTP status (error: no answer)',
    labelNames: ['endpoint', 'method', 'status'] as const,
    registers: [registry],
  });
  const requestSeconds = new Histogram({
    name: 'certfleet_http_acme_client_request_duration_seconds',
    help: 'How long requests to ACME servers took, by endpoint, method and HTTP status',
    labelNames: ['endpoint', 'method', 'status'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });
  const orders = new Counter({
    name: 'certfleet_acme_orders_total',
    help: 'ACME orders (one per key type) by CA and result: issued, or the failure kind (validation, rate-limited, unavailable, permanent, transient)',
    labelNames: ['ca', 'result'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'certfleet_acme_order_failures_total',
    help: 'Failed ACME orders by CA and ACME problem type (connection, dns, unauthorized, rateLimited...; network: no answer; other)',
    labelNames: ['ca', 'problem'] as const,
    registers: [registry],
  });
  const orderSeconds = new Histogram({
    name: 'certfleet_acme_order_duration_seconds',
    help: 'How long an ACME order took from new-order to the certificate (or the failure), by CA and result',
    labelNames: ['ca', 'result'] as const,
    buckets: ORDER_BUCKETS,
    registers: [registry],
  });

  const counted = (ca: string, account: OrderingAccount): OrderingAccount => ({
    supportsAri: () => account.supportsAri(),
    renewalInfo: (id) => account.renewalInfo(id),
    async issue(...args) {
      const started = performance.now();
      const done = (result: string) => {
        orders.inc({ ca, result });
        orderSeconds.observe({ ca, result }, (performance.now() - started) / 1000);
      };
      try {
        const issued = await account.issue(...args);
        done('issued');
        return issued;
      } catch (error) {
        done(classifyAcmeFailure(error).kind);
        failures.inc({ ca, problem: problemTypeOf(error) });
        throw error;
      }
    },
  });

  return {
    onAcmeRequest(request) {
      const labels = { endpoint: request.endpoint, method: request.method, status: request.status };
      requests.inc(labels);
      requestSeconds.observe(labels, request.durationSeconds);
    },
    countOrders: (cas) => cas.map((ca) => ({ config: ca.config, account: async () => counted(ca.config.name, await ca.account()) })),
  };
}

/** The ACME problem type of a failed order, short (`connection`), bounded to the RFC's form; `network` with no answer at all. */
export function problemTypeOf(error: unknown): string {
  if (!(error instanceof AcmeProblemError || error instanceof AcmeValidationError)) {
    return classifyAcmeFailure(error).kind === 'unavailable' ? 'network' : 'other';
  }
  const type = error instanceof AcmeProblemError ? error.type : error.problems[0]?.type;
  return (type && PROBLEM_TYPE.exec(type)?.[1]) || 'other';
}

/**
 * The CA budgets worth a series: each CA's order bucket, and its renewal share when set. The
 * per-registered-domain and per-name-set buckets are left out: one series per customer domain
 * is the explosion the fleet metrics avoid.
 */
export function caBudgets(cas: readonly CaConfig[], keys: BudgetKeys): FleetBudget[] {
  return cas.flatMap((ca) => [
    { ca: ca.name, bucket: 'orders', key: keys.caOrders(ca.name), spec: ca.budgets.orders },
    ...(ca.renewalBudget ? [{ ca: ca.name, bucket: 'renewals', key: keys.caRenewals(ca.name), spec: ca.renewalBudget }] : []),
  ]);
}

/** The fleet's certificate, queue, budget and pause metrics, on the issuer's registry. */
export function registerIssuerFleetMetrics(
  registry: Registry,
  sources: Omit<FleetSources, 'budgets' | 'cas'>,
  cas: readonly CaConfig[],
  keys: BudgetKeys,
): void {
  registerFleetMetrics(registry, { sources: { ...sources, budgets: caBudgets(cas, keys), cas: cas.map((ca) => ca.name) } });
}
