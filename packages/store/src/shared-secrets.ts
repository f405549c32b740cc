import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

export interface AcmeAccountRecord {
  keyPem: string;
  url: string | null;
}

/**
 * Values the whole fleet must agree on, created once by whoever comes first. Creation is
 * first-writer-wins (HSETNX / SET NX): two processes starting together both generate a
 * candidate, one is kept, and both go on with the kept one. No lock to leak.
 */
export interface SharedSecretStore {
  /** The ACME account for a CA directory; `generate` makes a key when there is none yet. */
  account(directoryUrl: string, generate: () => Promise<string>): Promise<AcmeAccountRecord>;
  setAccountUrl(directoryUrl: string, url: string): Promise<void>;
  /** The self-signed fallback certificate shared by every edge. */
  fallback(generate: () => Promise<{ certPem: string; keyPem: string }>): Promise<{ certPem: string; keyPem: string }>;
}

export function createSharedSecretStore(redis: RedisClient, keys: RedisKeys): SharedSecretStore {
  return {
    async account(directoryUrl, generate) {
      const key = keys.account(directoryUrl);
      let [keyPem, url] = await redis.hmget(key, 'key', 'url');
      if (!keyPem) {
        await redis.hsetnx(key, 'key', await generate());
        await redis.hsetnx(key, 'directory', directoryUrl);
        [keyPem, url] = await redis.hmget(key, 'key', 'url');
      }
      if (!keyPem) throw new Error(`the ACME account key for ${directoryUrl} vanished from Redis while being created`);
      return { keyPem, url: url ?? null };
    },
    async setAccountUrl(directoryUrl, url) {
      await redis.hset(keys.account(directoryUrl), 'url', url);
    },
    async fallback(generate) {
      const existing = await redis.get(keys.fallback);
      if (existing) return JSON.parse(existing) as { certPem: string; keyPem: string };
      await redis.set(keys.fallback, JSON.stringify(await generate()), 'NX');
      const kept = await redis.get(keys.fallback);
      if (!kept) throw new Error('the fallback certificate vanished from Redis while being created');
      return JSON.parse(kept) as { certPem: string; keyPem: string };
    },
  };
}
