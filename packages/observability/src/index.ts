export { createLogger, errorMessage } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export {
  createRegistry,
  serveMetrics,
  serveClusterMetrics,
  shareMetricsWithClusterPrimary,
  AggregatorRegistry,
  Counter,
  Gauge,
  Histogram,
  Registry,
} from './metrics.js';
export { registerFleetMetrics } from './fleet-metrics.js';
export type { FleetMetricsOptions } from './fleet-metrics.js';
export { EXPIRY_BOUNDS_SECONDS } from './fleet-reading.js';
export type { FleetBudget, FleetIndexReads, FleetQueueReads, FleetSources } from './fleet-reading.js';
