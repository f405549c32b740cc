import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A server that can stop gracefully: it stops accepting, lets the requests in flight finish
 * (answering them with `Connection: close`), closes keep-alive connections as they fall idle,
 * and after `timeoutMs` closes whatever is left, websockets included.
 */
export function drainable(server: Server, connectionEvent: 'connection' | 'secureConnection' = 'connection') {
  const sockets = new Set<Socket>();
  let draining = false;
  server.on(connectionEvent, (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Runs before the request handler: a client must not reuse a connection that is going away.
  server.prependListener('request', (_req, res) => {
    if (draining) res.setHeader('connection', 'close');
  });

  return {
    get draining() {
      return draining;
    },
    /** Resolves 'drained' when every connection has ended, 'closed' when the timeout closed some. */
    drain(timeoutMs: number): Promise<'drained' | 'closed'> {
      draining = true;
      return new Promise((resolve) => {
        let settled = false;
        const finish = (how: 'drained' | 'closed') => {
          if (settled) return;
          settled = true;
          clearInterval(sweep);
          clearTimeout(deadline);
          resolve(how);
        };
        server.close(() => finish('drained'));
        server.closeIdleConnections();
        // Keep-alive connections fall idle once their response is sent: close them as they do.
        const sweep = setInterval(() => server.closeIdleConnections(), 100);
        const deadline = setTimeout(() => {
          for (const socket of sockets) socket.destroy();
          server.closeAllConnections();
          finish('closed');
        }, timeoutMs);
      });
    },
  };
}
