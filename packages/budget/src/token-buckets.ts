import type { Redis } from 'ioredis';
import type { BucketSpec } from './bucket-spec.js';

// Atomic take: refill by the time elapsed on Redis's own clock (one clock for the whole fleet),
// then take `n` tokens if there are enough. The bucket's key expires once it would be full again.
const TAKE = `
local cap = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = cap
  ts = now
end
-- A bucket whose capacity was lowered since it was last used starts from the new capacity.
tokens = math.min(cap, tokens)
if now > ts then
  local refill = math.floor((now - ts) / interval)
  if refill > 0 then
    tokens = math.min(cap, tokens + refill)
    if tokens == cap then ts = now else ts = ts + refill * interval end
  end
end
local ok = 0
local wait = 0
if tokens >= n then
  tokens = tokens - n
  ok = 1
else
  wait = math.ceil((n - tokens) * interval - (now - ts))
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', ts)
redis.call('PEXPIRE', KEYS[1], math.ceil((cap - tokens) * interval) + 1000)
return {ok, tokens, wait}
`;

export interface TakeResult {
  granted: boolean;
  /** Tokens left after this take. */
  remaining: number;
  /** When refused: how long until enough tokens are back. */
  retryAfterMs: number;
}

/** Token buckets shared by the whole fleet, in Redis. Keys are the caller's (under its prefix). */
export interface TokenBuckets {
  take(key: string, spec: BucketSpec, count?: number): Promise<TakeResult>;
}

export function createTokenBuckets(redis: Redis): TokenBuckets {
  return {
    async take(key, spec, count = 1) {
      const [granted, remaining, wait] = (await redis.eval(
        TAKE,
        1,
        key,
        spec.capacity,
        spec.refillIntervalMs,
        count,
      )) as [number, number, number];
      return { granted: granted === 1, remaining, retryAfterMs: Math.max(0, wait) };
    },
  };
}
