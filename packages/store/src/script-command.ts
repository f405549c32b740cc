import type { RedisClient } from './connect.js';

/** A Lua script as a command of one connection: its keys, then its arguments. */
export type ScriptCommand<T> = (...keysAndArgs: (string | number | Buffer)[]) => Promise<T>;

/**
 * `lua` as an ioredis command named `name` on `redis`, defined once per connection: ioredis
 * sends it by SHA (EVALSHA) and falls back to EVAL when the server does not know it (a
 * restarted or flushed Redis), instead of sending the whole script on every call.
 */
export function scriptCommand<T>(redis: RedisClient, name: string, lua: string, numberOfKeys: number): ScriptCommand<T> {
  const scripted = redis as RedisClient & Record<string, ScriptCommand<T> | undefined>;
  if (!scripted[name]) redis.defineCommand(name, { lua, numberOfKeys });
  return (scripted[name] as ScriptCommand<T>).bind(redis);
}
