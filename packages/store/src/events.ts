import { subscriberConnection, type RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

/**
 * Subscribes to "a name's certificate changed" on a connection of its own (a subscribed ioredis
 * connection can do nothing else). Pub/sub is at-most-once: callers must not rely on it for
 * correctness, only for freshness. Returns a function that unsubscribes and closes.
 */
export async function subscribeCertChanged(
  redis: RedisClient,
  keys: RedisKeys,
  onChange: (name: string) => void,
  onAlpnChange?: (name: string) => void,
): Promise<() => Promise<void>> {
  // A subscriber must queue its SUBSCRIBE until connected, whatever the parent's fail-fast settings.
  const subscriber = subscriberConnection(redis);
  subscriber.on('error', () => undefined);
  subscriber.on('message', (channel: string, name: string) => {
    if (channel === keys.certChanged) onChange(name);
    else if (channel === keys.alpnChanged) onAlpnChange?.(name);
  });
  // ioredis re-subscribes by itself after a reconnect. Waited for only while Redis answers: an
  // edge starting during an outage serves from its local store and subscribes when Redis is back.
  const subscribed = subscriber.subscribe(keys.certChanged, keys.alpnChanged);
  if (redis.status === 'ready') await subscribed;
  else subscribed.catch(() => undefined);
  return async () => {
    subscriber.disconnect();
  };
}
