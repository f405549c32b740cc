import { describe, expect, it } from 'vitest';
import { createLogger } from '@certfleet/observability';
import { createRouteAddressPolicy } from './route-addresses.js';

const logger = createLogger({ role: 'test', level: 'silent' });

describe('createRouteAddressPolicy', () => {
  it("looks Redis's host name up and keeps routes from its addresses and, always, from its port there", async () => {
    const asked: string[] = [];
    const policy = await createRouteAddressPolicy({
      allowedNetworks: ['10.0.0.0/8'],
      redisEndpoints: [{ host: 'redis.internal', port: 6380 }],
      logger,
      resolve: async (host) => {
        asked.push(host);
        return ['10.0.0.9', '203.0.113.9'];
      },
    });
    expect(asked).toEqual(['redis.internal']);
    expect(policy.refusal('203.0.113.9', 80)).toMatchObject({ range: 'redis', allowable: true });
    expect(policy.refusal('10.0.0.9', 80)).toBeUndefined();
    expect(policy.refusal('10.0.0.9', 6380)).toMatchObject({ range: 'redis', allowable: false });
    expect(policy.refusal('127.0.0.1', 80)).toMatchObject({ range: 'loopback' });
  });

  it('uses an IP literal as is, and still filters when the host cannot be resolved', async () => {
    const literal = await createRouteAddressPolicy({
      allowedNetworks: [],
      redisEndpoints: [{ host: '198.51.100.4', port: 6379 }],
      logger,
      resolve: async () => [],
    });
    expect(literal.refusal('198.51.100.4', 80)).toMatchObject({ range: 'redis' });
    const unresolved = await createRouteAddressPolicy({
      allowedNetworks: [],
      redisEndpoints: [{ host: 'redis.internal', port: 6379 }],
      logger,
      resolve: async () => {
        throw new Error('ENOTFOUND');
      },
    });
    expect(unresolved.refusal('169.254.169.254', 80)).toMatchObject({ range: 'metadata' });
    expect(unresolved.refusal('93.184.216.34', 80)).toBeUndefined();
  });
});
