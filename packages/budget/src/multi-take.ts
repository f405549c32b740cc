import type { Cluster, Redis } from 'ioredis';
import type { BucketSpec } from './bucket-spec.js';
import { groupByHashTag, takeInSequence } from './take-sequence.js';

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

// Gives `count` tokens back to buckets a granted take drew on (see takeInSequence): the tokens
// first, up to the capacity, then the refill as above. A missing bucket expired, so it was full:
// left as it is. The same arithmetic is refundAt (bucket-math.ts): change both together.
// KEYS: the buckets; ARGV[1] count, then capacity and refill interval of each bucket.
const REFUND_LUA = `
local count = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #KEYS do
  local cap = tonumber(ARGV[(i - 1) * 2 + 2])
  local interval = tonumber(ARGV[(i - 1) * 2 + 3])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'ts')
  local tk = tonumber(state[1])
  local ts = tonumber(state[2])
  if tk ~= nil and ts ~= nil then
    tk = math.min(cap, tk + count)
    if now > ts then
      local refill = math.floor((now - ts) / interval)
      if refill > 0 then
        tk = math.min(cap, tk + refill)
        if tk == cap then ts = now else ts = ts + refill * interval end
      end
    end
    redis.call('HSET', KEYS[i], 'tokens', tk, 'ts', ts)
    redis.call('PEXPIRE', KEYS[i], math.ceil((cap - tk) * interval) + 1000)
  end
end
return #KEYS
`;

/** The scripts as ioredis commands: sent once per connection, then run by their SHA (EVALSHA, EVAL on NOSCRIPT). */
const TAKE_COMMAND = 'certfleetTakeAll';
const REFUND_COMMAND = 'certfleetRefund';

type ScriptCommand<T> = (numberOfKeys: number, ...keysAndArgs: (string | number)[]) => Promise<T>;

function command<T>(redis: Redis | Cluster, name: string, lua: string): ScriptCommand<T> {
  const scripted = redis as Redis & Record<string, ScriptCommand<T> | undefined>;
  if (!scripted[name]) redis.defineCommand(name, { lua });
  return (scripted[name] as ScriptCommand<T>).bind(redis);
}

/** One script over claims whose keys share a hash tag (one Cluster slot), or any keys on one server. */
async function takeInOneScript(redis: Redis | Cluster, claims: readonly BudgetClaim[], count: number): Promise<TakeAllResult> {
  const args = [count, ...claims.flatMap((c) => [c.spec.capacity, c.spec.refillIntervalMs, c.floor ?? 0])];
  const take = command<[number, number, number]>(redis, TAKE_COMMAND, TAKE_ALL_LUA);
  const [granted, wait, refused] = await take(claims.length, ...claims.map((c) => c.key), ...args);
  return { granted: granted === 1, retryAfterMs: Math.max(0, wait), refusedBy: refused ? claims[refused - 1] : undefined };
}

async function refundInOneScript(redis: Redis | Cluster, claims: readonly BudgetClaim[], count: number): Promise<void> {
  const args = [count, ...claims.flatMap((c) => [c.spec.capacity, c.spec.refillIntervalMs])];
  await command<number>(redis, REFUND_COMMAND, REFUND_LUA)(claims.length, ...claims.map((c) => c.key), ...args);
}

/**
 * Takes `count` tokens from every claimed bucket, or none from any.
 *
 * On one server (or Sentinel's master), one script over every key: atomic, one round trip, as
 * always. On a Cluster, a script may only touch keys of one slot, so the claims are grouped by
 * hash tag and taken group by group (takeInSequence): each group atomic, the whole still all or
 * nothing, since a refusal gives back what the earlier groups took. The key model decides how
 * many groups a take has: an order's claims share their CA's tag (one group, one script), while
 * the edge's per-client and fleet buckets do not (one tag for every client's bucket would make
 * one hot slot), so a new name costs the edge a second round trip on a Cluster, and a third
 * when the fleet's bucket refuses.
 */
export async function takeAll(redis: Redis | Cluster, claims: readonly BudgetClaim[], count = 1): Promise<TakeAllResult> {
  if (claims.length === 0) return { granted: true, retryAfterMs: 0, refusedBy: undefined };
  const groups = redis.isCluster ? groupByHashTag(claims) : [claims];
  if (groups.length === 1) return takeInOneScript(redis, claims, count);
  return takeInSequence(groups, {
    take: (group) => takeInOneScript(redis, group, count),
    refund: (group) => refundInOneScript(redis, group, count),
  });
}
