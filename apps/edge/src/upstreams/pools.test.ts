import { afterEach, describe, expect, it } from 'vitest';
import { createAddressPolicy } from '@certfleet/config';
import { createLogger } from '@certfleet/observability';
import { createUpstreamPools, type UpstreamPools } from './pools.js';

describe('upstream pools', () => {
  let pools: UpstreamPools | undefined;
  afterEach(() => pools?.close());

  it("filters the addresses of route pools, not the default upstream's (nor a route to that same origin)", async () => {
    const defaultUrl = new URL('http://127.0.0.1:3000');
    pools = createUpstreamPools(defaultUrl, {
      resolve: async () => ['127.0.0.1'],
      resolveIntervalMs: 15_000,
      maxIps: 3,
      failTimeoutMs: 10_000,
      logger: createLogger({ role: 'test', level: 'silent' }),
      addressPolicy: createAddressPolicy(),
    });
    expect(pools.get(defaultUrl).pick()).toBe('127.0.0.1');
    expect(pools.get(new URL('http://127.0.0.1:3000/shop')).pick()).toBe('127.0.0.1');
    const route = pools.get(new URL('http://127.0.0.1:4000'));
    await route.ready();
    expect(route.pick()).toBeUndefined();
    const byName = pools.get(new URL('http://rebound.example:3000'));
    await byName.ready();
    expect(byName.pick()).toBeUndefined();
  });
});
