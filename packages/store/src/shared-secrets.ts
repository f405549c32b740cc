import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';
import { purposes, type SealedValues } from './sealed-values.js';

export interface AcmeAccountRecord {
  keyPem: string;
  url: string | null;
}

/** A certificate and its private key, PEM. */
export interface PemPair {
  certPem: string;
  keyPem: string;
}

/**
 * Values the whole fleet must agree on, created once by whoever comes first. Creation is
 * first-writer-wins (HSETNX / SET NX): two processes starting together both generate a
 * candidate, one is kept, and both go on with the kept one. No lock to leak. Private keys are
 * sealed (an account's for `acme-account-key:<directory>`, the fallback's for `fallback-key`).
 */
export interface SharedSecretStore {
  /** The ACME account for a CA directory; `generate` makes a key when there is none yet. */
  account(directoryUrl: string, generate: () => Promise<string>): Promise<AcmeAccountRecord>;
  setAccountUrl(directoryUrl: string, url: string): Promise<void>;
  /** The self-signed fallback certificate shared by every edge. */
  fallback(generate: () => Promise<PemPair>): Promise<PemPair>;
}

export function createSharedSecretStore(redis: RedisClient, keys: RedisKeys, sealed: SealedValues): SharedSecretStore {
  const openFallback = (raw: string): PemPair => {
    const pair = JSON.parse(raw) as PemPair;
    return { certPem: pair.certPem, keyPem: sealed.open(pair.keyPem, purposes.fallbackKey) };
  };
  return {
    async account(directoryUrl, generate) {
      const key = keys.account(directoryUrl);
      const purpose = purposes.accountKey(directoryUrl);
      let [stored, url] = await redis.hmget(key, 'key', 'url');
      if (!stored) {
        // The directory first: `certfleet keys rotate` needs it to name the key's purpose.
        await redis.hsetnx(key, 'directory', directoryUrl);
        await redis.hsetnx(key, 'key', sealed.seal(await generate(), purpose));
        [stored, url] = await redis.hmget(key, 'key', 'url');
      }
      if (!stored) throw new Error(`the ACME account key for ${directoryUrl} vanished from Redis while being created`);
      return { keyPem: sealed.open(stored, purpose), url: url ?? null };
    },
    async setAccountUrl(directoryUrl, url) {
      await redis.hset(keys.account(directoryUrl), 'url', url);
    },
    async fallback(generate) {
      const existing = await redis.get(keys.fallback);
      if (existing) return openFallback(existing);
      const pair = await generate();
      await redis.set(
        keys.fallback,
        JSON.stringify({ certPem: pair.certPem, keyPem: sealed.seal(pair.keyPem, purposes.fallbackKey) }),
        'NX',
      );
      const kept = await redis.get(keys.fallback);
      if (!kept) throw new Error('the fallback certificate vanished from Redis while being created');
      return openFallback(kept);
    },
  };
}
