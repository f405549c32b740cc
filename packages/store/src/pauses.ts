import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

export interface Pause {
  until: number;
  reason: string;
}

/**
 * Fleet-wide pauses: a CA that answered 429 or is down is not asked by any issuer until the
 * pause ends; `issuanceBlocked` tells edges that no CA can take a visitor's order now.
 */
export interface PauseStore {
  caPause(ca: string): Promise<Pause | null>;
  pauseCa(ca: string, pause: Pause, now: number): Promise<void>;
  issuanceBlocked(): Promise<Pause | null>;
  blockIssuance(pause: Pause, now: number): Promise<void>;
}

export function createPauseStore(redis: RedisClient, keys: RedisKeys): PauseStore {
  const read = async (key: string): Promise<Pause | null> => {
    const raw = await redis.get(key);
    return raw ? (JSON.parse(raw) as Pause) : null;
  };
  const write = async (key: string, pause: Pause, now: number) => {
    const ms = Math.ceil(pause.until - now);
    if (ms > 0) await redis.set(key, JSON.stringify(pause), 'PX', ms);
  };
  return {
    caPause: (ca) => read(keys.caPause(ca)),
    pauseCa: (ca, pause, now) => write(keys.caPause(ca), pause, now),
    issuanceBlocked: () => read(keys.issuanceBlocked),
    blockIssuance: (pause, now) => write(keys.issuanceBlocked, pause, now),
  };
}
