import { metric } from './certfleet.js';
import type { Stack } from './stack.js';
import { handshake } from './tls-client.js';
import { until } from './wait.js';

/**
 * What a test asks of the first edge of a stack that is started in beforeAll (hence the
 * getter): the edge, its HTTPS port, one of its metrics, and a wait until a name is served
 * with its real certificate (the first handshake has it issued).
 */
export function edgeProbes(stack: () => Stack) {
  const edge = () => {
    const first = stack().edges[0];
    if (!first) throw new Error('the stack started no edge');
    return first;
  };
  const port = () => edge().ports.httpsPort;
  return {
    edge,
    port,
    counted: (name: string, labels: Record<string, string> = {}) => metric(edge().ports.metricsPort, name, labels),
    served: (name: string) =>
      until(`${name} served with its certificate`, async () => (await handshake(port(), name, stack().rootPem)).authorized, 60_000, 300),
  };
}
