import { randomBytes } from 'node:crypto';
import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';
import { purposes, type SealedValues } from './sealed-values.js';
import { scriptCommand } from './script-command.js';

/** Bytes of one session-ticket key: 16 name, 16 HMAC secret, 16 AES key (what Node and OpenSSL use). */
export const TICKET_KEY_BYTES = 48;

/**
 * The fleet's session-ticket keys. Edges encrypt new tickets with `current` and decrypt with any
 * of the three. `next` is handed out one rotation before it becomes current, so every edge holds
 * it before any edge encrypts with it; `previous` keeps tickets issued before the last rotation
 * valid for one more interval.
 */
export interface TicketKeySet {
  next: Buffer;
  current: Buffer;
  previous: Buffer | undefined;
  /** When `current` became current (Redis clock, ms). */
  rotatedAt: number;
}

export interface TicketKeyStore {
  /**
   * The keys as they stand, rotated first when `current` is `intervalMs` old or more (or created
   * when there are none). Atomic on the server: however many edges call at once, one rotation
   * happens per interval.
   */
  rotateIfDue(intervalMs: number): Promise<TicketKeySet>;
}

// KEYS[1] ticket keys; ARGV[1] interval ms, ARGV[2..3] two fresh random keys (sealed) for the
// server to use if it rotates or creates. Returns the stored JSON. The keys are sealed for one
// purpose whatever their slot, so the script moves them from slot to slot as they are.
const ROTATE_TICKET_KEYS_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local raw = redis.call('GET', KEYS[1])
local ring
if raw then
  ring = cjson.decode(raw)
  if now - tonumber(ring.rotatedAt) < tonumber(ARGV[1]) then return raw end
  ring = { next = ARGV[2], current = ring.next, previous = ring.current, rotatedAt = now }
else
  ring = { next = ARGV[2], current = ARGV[3], rotatedAt = now }
end
raw = cjson.encode(ring)
redis.call('SET', KEYS[1], raw)
return raw
`;

export function createTicketKeyStore(redis: RedisClient, keys: RedisKeys, sealed: SealedValues): TicketKeyStore {
  const rotate = scriptCommand<string>(redis, 'certfleetRotateTicketKeys', ROTATE_TICKET_KEYS_LUA, 1);
  return {
    async rotateIfDue(intervalMs) {
      const fresh = () => sealed.seal(randomBytes(TICKET_KEY_BYTES), purposes.ticketKey);
      const raw = await rotate(keys.ticketKeys, String(intervalMs), fresh(), fresh());
      return parseTicketKeySet(raw, sealed);
    },
  };
}

/** The stored set: each key sealed (written before sealing: base64). */
export interface StoredTicketKeys {
  next: string;
  current: string;
  previous?: string;
  rotatedAt: number;
}

function parseTicketKeySet(raw: string, sealed: SealedValues): TicketKeySet {
  const stored = JSON.parse(raw) as StoredTicketKeys;
  const key = (text: string, which: string) => {
    const bytes = sealed.openBytes(text, purposes.ticketKey, (legacy) => Buffer.from(legacy, 'base64'));
    if (bytes.length !== TICKET_KEY_BYTES) {
      throw new Error(
        `the stored session-ticket ${which} key is ${bytes.length} bytes, not ${TICKET_KEY_BYTES}: delete the Redis key to start a new set`,
      );
    }
    return bytes;
  };
  return {
    next: key(stored.next, 'next'),
    current: key(stored.current, 'current'),
    previous: stored.previous ? key(stored.previous, 'previous') : undefined,
    rotatedAt: Number(stored.rotatedAt),
  };
}
