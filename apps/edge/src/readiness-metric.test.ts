import { AggregatorRegistry, Registry } from '@certfleet/observability';
import { describe, expect, it } from 'vitest';
import { exportReadiness } from './metrics.js';

describe('certfleet_edge_ready', () => {
  it('follows readiness at each scrape', async () => {
    const registry = new Registry();
    let ready = false;
    exportReadiness(registry, () => ({ ready }));
    expect(await registry.metrics()).toContain('certfleet_edge_ready 0');
    ready = true;
    expect(await registry.metrics()).toContain('certfleet_edge_ready 1');
  });

  it("shows an edge's workers as ready only when all of them are (the primary's sum takes the lowest)", async () => {
    const worker = async (ready: boolean) => {
      const registry = new Registry();
      exportReadiness(registry, () => ({ ready }));
      return registry.getMetricsAsJSON();
    };
    const summed = AggregatorRegistry.aggregate([await worker(true), await worker(false), await worker(true)]);
    expect(await summed.metrics()).toContain('certfleet_edge_ready 0');
    const allReady = AggregatorRegistry.aggregate([await worker(true), await worker(true)]);
    expect(await allReady.metrics()).toContain('certfleet_edge_ready 1');
  });
});
