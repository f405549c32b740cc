import type { Server, Socket } from 'node:net';
import { clientKey } from './client-key.js';

export type ConnectionLimit = 'max_connections' | 'per_ip';

/**
 * Caps what one process accepts: at most `maxConnections` open connections (Node's own
 * `maxConnections`, which closes the next ones at once), and at most `maxPerClient` from one
 * client (IPv6 counted per /64). Over a limit the connection is closed before any TLS work,
 * and counted. One counter per client is shared by every server given to it, so a client
 * cannot take twice its share by splitting over HTTP and HTTPS.
 */
export function createConnectionLimiter(options: {
  maxConnections: number;
  maxPerClient: number;
  onRefused: (limit: ConnectionLimit) => void;
}) {
  const open = new Map<string, number>();

  const admit = (socket: Socket) => {
    const key = clientKey(socket.remoteAddress ?? '');
    const count = open.get(key) ?? 0;
    if (count >= options.maxPerClient) {
      options.onRefused('per_ip');
      socket.destroy();
      return;
    }
    open.set(key, count + 1);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left <= 0) open.delete(key);
      else open.set(key, left);
    });
  };

  return {
    /** Applies both limits to `server`; runs before any other connection listener (TLS included). */
    guard(server: Server): void {
      server.maxConnections = options.maxConnections;
      server.on('drop', () => options.onRefused('max_connections'));
      server.prependListener('connection', admit);
    },
    /** Open connections counted for a client address (tests, metrics). */
    openFor: (address: string) => open.get(clientKey(address)) ?? 0,
  };
}
