import { createHash } from 'node:crypto';
import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * A chain as issued, cut into the leaf and the intermediates after it (both PEM, each block
 * ending in a newline), so that `leaf + intermediates` serves the same chain.
 */
export function splitChain(chainPem: string): { leaf: string; intermediates: string } {
  const blocks = chainPem.match(PEM_CERTIFICATE) ?? [];
  const [leaf, ...rest] = blocks.map((block) => `${block}\n`);
  // Not PEM certificates (a test's placeholder): kept whole as the "leaf", nothing shared.
  if (!leaf) return { leaf: chainPem, intermediates: '' };
  return { leaf, intermediates: rest.join('') };
}

/**
 * The name of an intermediate chain in the store: the first 128 bits of the SHA-256 of its PEM,
 * hex (32 characters: it keeps a certificate's hash in Redis's compact encoding; a fleet has a
 * handful of chains, so a collision is out of reach).
 */
export const chainIdOf = (intermediates: string) => createHash('sha256').update(intermediates).digest('hex').slice(0, 32);

/** Chains held in memory per process: a CA has one or two intermediates, a fleet a handful of CAs. */
const CACHED_CHAINS = 64;

/**
 * The CAs' intermediate chains, each stored once (`chain:<sha256>`, content-addressed, so
 * writing one twice is harmless and never changes it) and shared by every certificate they
 * issued. Reads are cached in memory: a certificate read costs one round trip for its own hash
 * once its chain has been seen, and two the first time.
 */
export interface ChainStore {
  /** Stores `intermediates` (when not already known) and returns its id; '' for none. */
  put(intermediates: string): Promise<string>;
  /** The intermediates named `id` ('' for none). */
  get(id: string): Promise<string>;
}

export function createChainStore(redis: RedisClient, keys: RedisKeys): ChainStore {
  const cache = new Map<string, string>();
  const remember = (id: string, pem: string) => {
    cache.delete(id);
    cache.set(id, pem);
    if (cache.size > CACHED_CHAINS) cache.delete(cache.keys().next().value as string);
  };
  return {
    async put(intermediates) {
      if (intermediates === '') return '';
      const id = chainIdOf(intermediates);
      if (cache.get(id) !== intermediates) {
        // Written before any certificate names it: a reader never finds a reference without its chain.
        await redis.set(keys.chain(id), intermediates, 'NX');
        remember(id, intermediates);
      }
      return id;
    },
    async get(id) {
      if (id === '') return '';
      const cached = cache.get(id);
      if (cached !== undefined) {
        remember(id, cached);
        return cached;
      }
      const pem = await redis.get(keys.chain(id));
      if (pem === null) {
        throw new Error(
          `the intermediate chain ${id} that a certificate names is missing from Redis: renew the certificate (\`certfleet domains add <name> --issue\`) to store it again`,
        );
      }
      if (chainIdOf(pem) !== id)
        throw new Error(`the intermediate chain stored as ${id} does not match its hash: delete the key and renew`);
      remember(id, pem);
      return pem;
    },
  };
}
