import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoRedis } from '../../infra/demo/demo-redis.js';
import { startRedis, type RedisServer } from '../support/redis.js';

// `npm run demo` must never delete data it did not create (issue 13: it deleted every key under
// its prefix in whatever Redis answered).
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis('cli-demo');
  // Someone's data, under the prefix the demo used to own and under a look-alike.
  await redis.client().mset('certfleet-demo:allowlist', 'theirs', 'certfleet-demo-1234abcd:x', 'theirs too');
});
afterAll(async () => {
  await redis?.stop();
});

describe('the demo on a Redis it found running', () => {
  it('uses a fresh prefix, and at the end removes only the keys it wrote', async () => {
    const chosen = await demoRedis({ REDIS_URL: redis.url });
    expect(chosen.url).toBe(redis.url);
    expect(chosen.prefix).toMatch(/^certfleet-demo-[0-9a-f]{8}$/);
    const client = redis.client();
    expect(await client.keys(`${chosen.prefix}:*`)).toEqual([]);
    await client.set(`${chosen.prefix}:allowlist`, 'the demo wrote this');
    await chosen.release();
    expect(await client.exists(`${chosen.prefix}:allowlist`)).toBe(0);
    expect(await client.mget('certfleet-demo:allowlist', 'certfleet-demo-1234abcd:x')).toEqual(['theirs', 'theirs too']);
  });

  it('refuses a CERTFLEET_PREFIX that already holds keys, and deletes nothing', async () => {
    await expect(demoRedis({ REDIS_URL: redis.url, CERTFLEET_PREFIX: 'certfleet-demo' })).rejects.toThrow(
      /keys under "certfleet-demo:" already exist .* the demo does not use \(or delete\) data it did not create/,
    );
    expect(await redis.client().get('certfleet-demo:allowlist')).toBe('theirs');
  });

  it('says so when REDIS_URL does not answer', async () => {
    await expect(demoRedis({ REDIS_URL: 'redis://127.0.0.1:1' })).rejects.toThrow(/REDIS_URL=redis:\/\/127\.0\.0\.1:1 does not answer/);
  });
});

describe('the demo without REDIS_URL', () => {
  it('starts a redis-server of its own instead of using one on 6379, and stops it at the end', async () => {
    const chosen = await demoRedis({});
    expect(chosen.url).not.toBe('redis://127.0.0.1:6379');
    expect(chosen.url).not.toBe(redis.url);
    expect(chosen.origin).toBe('its own redis-server');
    await chosen.release();
  });
});
