import type { Server } from 'node:http';
import type { DashboardConfig } from '@certfleet/config';
import { registerFleetMetrics, serveMetrics, type FleetQueueReads, type Registry } from '@certfleet/observability';
import { PRIORITY } from '@certfleet/queue';
import { createMetricReads, type RedisClient } from '@certfleet/store';

/**
 * The dashboard's `/metrics` on DASHBOARD_METRICS_PORT (apart from the dashboard's own port, as
 * the issuer's and the edge's): the fleet's certificates, expiry horizon and queue depths, read
 * at scrape time (see registerFleetMetrics), so a deployment whose issuers expose no metrics port
 * still has them. CA budgets and pauses are the issuer's: the dashboard does not know the CAs.
 * Resolves to undefined when no port is set.
 */
export async function serveDashboardMetrics(
  config: Pick<DashboardConfig, 'prefix' | 'metricsPort' | 'metricsBindAddress' | 'metricsPerHostnameMax'>,
  deps: { registry: Registry; redis: RedisClient; queue: FleetQueueReads },
): Promise<Server | undefined> {
  if (config.metricsPort === undefined) return undefined;
  registerFleetMetrics(deps.registry, {
    sources: {
      reads: createMetricReads(deps.redis, config.prefix),
      queue: deps.queue,
      priorities: PRIORITY,
      perHostnameMax: config.metricsPerHostnameMax,
    },
  });
  return serveMetrics(deps.registry, config.metricsPort, config.metricsBindAddress);
}
