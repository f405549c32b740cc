export { createLogger, errorMessage } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export {
  createRegistry,
  serveMetrics,
  serveClusterMetrics,
  shareMetricsWithClusterPrimary,
  Counter,
  Gauge,
  Histogram,
  Registry,
} from './metrics.js';
