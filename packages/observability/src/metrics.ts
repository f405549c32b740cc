import { createServer, type Server } from 'node:http';
import { AggregatorRegistry, collectDefaultMetrics, Registry } from 'prom-client';

export { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** A registry of a role's own, with Node's process metrics, labelled with the role. */
export function createRegistry(role: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry, prefix: 'certfleet_' });
  return registry;
}

/**
 * Serves `GET /metrics` (Prometheus text format) on its own port, apart from customer traffic.
 * Resolves once listening.
 */
export function serveMetrics(registry: Registry, port: number, host: string): Promise<Server> {
  return serveMetricsText(port, host, registry.contentType, () => registry.metrics());
}

/**
 * In a node:cluster worker: answer the primary's requests for this worker's metrics, so that
 * the primary's {@link serveClusterMetrics} can add up every worker's.
 */
export function shareMetricsWithClusterPrimary(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one installs prom-client's message listener in this worker.
  new AggregatorRegistry();
}

/** In a node:cluster primary: `GET /metrics` answered with every worker's metrics added up. */
export function serveClusterMetrics(port: number, host: string): Promise<Server> {
  const aggregator = new AggregatorRegistry();
  return serveMetricsText(port, host, aggregator.contentType, () => aggregator.clusterMetrics());
}

async function serveMetricsText(port: number, host: string, contentType: string, produce: () => Promise<string>): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    produce().then(
      (text) => res.writeHead(200, { 'content-type': contentType }).end(text),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
