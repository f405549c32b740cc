import type { ServerResponse } from 'node:http';
import type { ServerHttp2Session } from 'node:http2';
import type { Server, Socket } from 'node:net';

/** node:http's server, or node:http2's (whose closeIdleConnections covers its HTTP/1.1 connections only). */
type DrainableServer = Server & { closeIdleConnections(): void; closeAllConnections?(): void };

/**
 * A server that can stop gracefully: it stops accepting, lets the requests in flight finish
 * (answering them with `Connection: close`), closes keep-alive connections as they fall idle,
 * and after `timeoutMs` closes whatever is left, websockets included. An h2 session is closed
 * with GOAWAY: its streams in flight finish, no new one is taken.
 */
export function drainable(server: DrainableServer, connectionEvent: 'connection' | 'secureConnection' = 'connection') {
  const sockets = new Set<Socket>();
  const sessions = new Set<ServerHttp2Session>();
  let draining = false;
  server.on(connectionEvent, (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Only node:http2's server emits 'session'. server.close() closes the sessions open then; one
  // whose handshake was still under way is closed as it starts.
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    if (draining) session.close();
  });
  // Runs before the request handler: a client must not reuse a connection that is going away
  // (HTTP/1.1 only: h2 says so with GOAWAY, and has no Connection header).
  server.prependListener('request', (req: { httpVersionMajor: number }, res: ServerResponse) => {
    if (draining && req.httpVersionMajor < 2) res.setHeader('connection', 'close');
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
        for (const session of sessions) session.close();
        // Keep-alive connections fall idle once their response is sent: close them as they do.
        const sweep = setInterval(() => server.closeIdleConnections(), 100);
        const deadline = setTimeout(() => {
          for (const socket of sockets) socket.destroy();
          server.closeAllConnections?.();
          finish('closed');
        }, timeoutMs);
      });
    },
  };
}
