import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

export type IssuanceState = 'issuing' | 'active' | 'cooling' | 'failed';

/** Where a name stands with the CA, for edges (cool-down) and operators (`domains status`). */
export interface NameState {
  state: IssuanceState;
  /** Orders attempted for the name. */
  attempts: number;
  /** Failed validations in a row (reset on success). */
  failures: number;
  lastError: string | undefined;
  lastErrorAt: number | undefined;
  /** While cooling down: no order before this (ms since epoch). */
  coolUntil: number | undefined;
  /** The CA that last issued for the name, or was last tried. */
  ca: string | undefined;
  updatedAt: number;
}

export interface NameStateStore {
  get(name: string): Promise<NameState | null>;
  markIssuing(name: string, ca: string, now: number): Promise<void>;
  markActive(name: string, ca: string, now: number): Promise<void>;
  /** A failed validation: cools the name down until `coolUntil`; returns the failures in a row. */
  markCooling(name: string, error: string, coolUntil: number, now: number): Promise<void>;
  /** A permanent refusal: no order until an operator acts (`certfleet domains retry`). */
  markFailed(name: string, error: string, now: number): Promise<void>;
  /** Records an error that changes nothing else (a transient one). */
  noteError(name: string, error: string, now: number): Promise<void>;
  clear(name: string): Promise<void>;
}

/** Whether edges must not enqueue for the name now (cooling down, or failed for good). */
export function blocksIssuance(state: NameState | null, now: number): boolean {
  if (!state) return false;
  if (state.state === 'failed') return true;
  return state.state === 'cooling' && (state.coolUntil ?? 0) > now;
}

/** A name-state hash as read from Redis; null when the name has none. */
export function nameStateOf(h: Record<string, string>): NameState | null {
  if (!h.state) return null;
  const num = (value: string | undefined) => (value === undefined || value === '' ? undefined : Number(value));
  return {
    state: h.state as IssuanceState,
    attempts: Number(h.attempts ?? 0),
    failures: Number(h.failures ?? 0),
    lastError: h.lastError || undefined,
    lastErrorAt: num(h.lastErrorAt),
    coolUntil: num(h.coolUntil),
    ca: h.ca || undefined,
    updatedAt: Number(h.updatedAt ?? 0),
  };
}

/**
 * `onChange` runs after each transition (the hostname registry moves the name between its status
 * indexes); its failure does not undo the transition, which is already written.
 */
export function createNameStateStore(
  redis: RedisClient,
  keys: RedisKeys,
  onChange: (name: string) => Promise<void> = async () => undefined,
): NameStateStore {
  const error = (text: string) => text.slice(0, 500);
  return {
    async get(name) {
      return nameStateOf(await redis.hgetall(keys.nameState(name)));
    },
    async markIssuing(name, ca, now) {
      await redis
        .multi()
        .hincrby(keys.nameState(name), 'attempts', 1)
        .hset(keys.nameState(name), { state: 'issuing', ca, updatedAt: now })
        // An order goes ahead: no budget holds it back any more.
        .del(keys.budgetHold(name))
        .exec();
      await onChange(name);
    },
    async markActive(name, ca, now) {
      await redis
        .multi()
        .hset(keys.nameState(name), { state: 'active', ca, failures: 0, updatedAt: now })
        .hdel(keys.nameState(name), 'coolUntil')
        // Served now: past failed validations and holds no longer concern the customer.
        .del(keys.validationErrors(name), keys.budgetHold(name))
        .exec();
      await onChange(name);
    },
    async markCooling(name, text, coolUntil, now) {
      await redis
        .multi()
        .hincrby(keys.nameState(name), 'failures', 1)
        .hset(keys.nameState(name), { state: 'cooling', coolUntil, lastError: error(text), lastErrorAt: now, updatedAt: now })
        .exec();
      await onChange(name);
    },
    async markFailed(name, text, now) {
      await redis.hset(keys.nameState(name), { state: 'failed', lastError: error(text), lastErrorAt: now, updatedAt: now });
      await onChange(name);
    },
    async noteError(name, text, now) {
      await redis.hset(keys.nameState(name), { lastError: error(text), lastErrorAt: now, updatedAt: now });
    },
    async clear(name) {
      await redis.del(keys.nameState(name));
      await onChange(name);
    },
  };
}
