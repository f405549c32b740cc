import type { Cluster, Redis } from 'ioredis';
import type { BucketSpec } from './bucket-spec.js';

// All-or-nothing take from several buckets, on Redis's clock: every bucket is refilled, then
// checked against its floor (tokens that must stay for others); only if all have enough are
// `count` tokens taken from each. Returns {granted, waitMs, index of the first bucket that refused}.
// The same arithmetic, with no I/O, is takeAllAt (bucket-math.ts): change both together.
// KEYS: the buckets; ARGV[1] count, then capacity, refill interval, floor of each bucket.
const TAKE_ALL_LUA = `
local count = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS
local tokens = {}
local stamps = {}
local wait = 0
local refused = 0
for i = 1, n do
  local cap = tonumber(ARGV[(i - 1) * 3 + 2])
  local interval = tonumber(ARGV[(i - 1) * 3 + 3])
  local floor = tonumber(ARGV[(i - 1) * 3 + 4])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'ts')
  local tk = tonumber(state[1])
  local ts = tonumber(state[2])
  if tk == nil or ts == nil then
    tk = cap
    ts = now
  end
  tk = math.min(cap, tk)
  if now > ts then
    local refill = math.floor((now - ts) / interval)
    if refill > 0 then
      tk = math.min(cap, tk + refill)
      if tk == cap then ts = now else ts = ts + refill * interval end
    end
  end
  tokens[i] = tk
  stamps[i] = ts
  if tk - count < floor then
    local need = floor + count - tk
    local w = math.ceil(need * interval - (now - ts))
    if w > wait then wait = w end
    if refused == 0 then refused = i end
  end
end
for i = 1, n do
  local cap = tonumber(ARGV[(i - 1) * 3 + 2])
  local interval = tonumber(ARGV[(i - 1) * 3 + 3])
  local tk = tokens[i]
  if refused == 0 then tk = tk - count end
  redis.call('HSET', KEYS[i], 'tokens', tk, 'ts', stamps[i])
  redis.call('PEXPIRE', KEYS[i], math.ceil((cap - tk) * interval) + 1000)
end
if refused == 0 then return {1, 0, 0} end
return {0, wait, refused}
`;

export interface BudgetClaim {
  key: string;
  spec: BucketSpec;
  /** Tokens that must remain in this bucket after the take (kept for others, e.g. waiting visitors). */
  floor?: number;
}

export interface TakeAllResult {
  granted: boolean;
  /** When refused: how long until every bucket could grant. */
  retryAfterMs: number;
  /** When refused: the first claim that refused. */
  refusedBy: BudgetClaim | undefined;
}

/** The script as an ioredis command: sent once per connection, then run by its SHA (EVALSHA, EVAL on NOSCRIPT). */
const COMMAND = 'certfleetTakeAll';

type TakeAllCommand = (numberOfKeys: number, ...keysAndArgs: (string | number)[]) => Promise<[number, number, number]>;

function takeAllCommand(redis: Redis | Cluster): TakeAllCommand {
  const scripted = redis as Redis & { [COMMAND]?: TakeAllCommand };
  if (!scripted[COMMAND]) redis.defineCommand(COMMAND, { lua: TAKE_ALL_LUA });
  return (scripted[COMMAND] as TakeAllCommand).bind(redis);
}

/** Takes `count` tokens from every claimed bucket, or none from any. */
export async function takeAll(redis: Redis | Cluster, claims: readonly BudgetClaim[], count = 1): Promise<TakeAllResult> {
  if (claims.length === 0) return { granted: true, retryAfterMs: 0, refusedBy: undefined };
  const args = [count, ...claims.flatMap((c) => [c.spec.capacity, c.spec.refillIntervalMs, c.floor ?? 0])];
  const [granted, wait, refused] = await takeAllCommand(redis)(claims.length, ...claims.map((c) => c.key), ...args);
  return { granted: granted === 1, retryAfterMs: Math.max(0, wait), refusedBy: refused ? claims[refused - 1] : undefined };
}
