import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** What came back on a raw connection: the status line's code (0 when none), the head and the body as text. */
export interface RawReply {
  status: number;
  head: string;
  body: string;
}

/**
 * Writes `bytes` as they are on one TLS connection to 127.0.0.1:`port` (SNI `servername`, the
 * certificate not checked) and reads until the edge closes it or `waitMs` passes. No HTTP
 * client library sits in between: what a hostile client sends is what the edge gets.
 */
export function rawTls(
  port: number,
  servername: string,
  bytes: string | Buffer,
  options: { waitMs?: number; localAddress?: string } = {},
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      servername,
      rejectUnauthorized: false,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    const chunks: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
      resolve({ status: status ? Number(status) : 0, head, body: split < 0 ? '' : text.slice(split + 4) });
    };
    const timer = setTimeout(finish, options.waitMs ?? 10_000);
    socket.once('secureConnect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('close', finish);
    socket.once('error', (error) => (chunks.length ? finish() : reject(error)));
  });
}

/** Plain TCP connections to 127.0.0.1:`port` that send nothing; resolves once each is open (or refused). */
export async function idleConnections(port: number, count: number, localAddress = '127.0.0.1'): Promise<Socket[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port, localAddress });
          socket.on('error', () => undefined);
          socket.once('connect', () => resolve(socket));
          socket.once('close', () => resolve(socket));
        }),
    ),
  );
}

/**
 * An upstream that answers each request with the bytes `answers` gives for its path (raw, so
 * anything a broken or hostile origin could send), and records every byte it received, so a
 * test can show what the edge put on the wire (a smuggled request would be in `received`).
 * A path it has no answer for gets a plain 200 `ok`.
 */
export async function startRawUpstream(answers: Record<string, (socket: Socket) => void>): Promise<{
  port: number;
  url: string;
  received: () => string;
  requests: () => string[];
  close(): Promise<void>;
}> {
  const received: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      pending = Buffer.concat([pending, chunk]);
      // One answer per request head; a body (if any) is recorded, not parsed.
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = pending.subarray(0, end).toString('latin1');
        pending = pending.subarray(end + 4);
        const path = head.split(' ')[1] ?? '/';
        const answer = answers[path.split('?')[0] ?? '/'];
        if (answer) answer(socket);
        else socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        if (/\r\ntransfer-encoding: chunked/i.test(head) || /\r\ncontent-length: [1-9]/i.test(head)) {
          // A framed body follows: drop it from the parse (the test reads it in `received`).
          pending = Buffer.alloc(0);
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    received: () => Buffer.concat(received).toString('latin1'),
    requests: () =>
      (
        Buffer.concat(received)
          .toString('latin1')
          .match(/^[A-Z]+ \S+ HTTP\/1\.[01]\r$/gm) ?? []
      ).map((line) => line.trim()),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
