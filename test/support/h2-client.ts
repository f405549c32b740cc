import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/** A TLS connection made the way the tests need it: SNI only when given, a ticket offered, ALPN h2. */
export interface H2ConnectOptions {
  /** SNI; undefined or '' sends none. */
  servername?: string | undefined;
  /** Verify against this root (the result is in `authorized`, the connection goes on either way). */
  ca?: string | undefined;
  /** A session ticket from an earlier connection, to resume. */
  session?: Buffer | undefined;
  /** The TLS version ceiling, to resume a TLS 1.2 session. */
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** The source address, to be another client. */
  localAddress?: string;
}

export interface H2Connection {
  session: ClientHttp2Session;
  socket: TLSSocket;
  /** The last ticket the server sent on this connection. */
  ticket: () => Buffer | undefined;
}

/**
 * An h2 connection (node:http2's client) to 127.0.0.1:`port`. The TLS socket is made here, not
 * by node:http2, so that no SNI is sent unless asked for (node:http2 would send the host).
 */
export function connectH2(port: number, options: H2ConnectOptions = {}): Promise<H2Connection> {
  return new Promise((resolve, reject) => {
    let ticket: Buffer | undefined;
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      ALPNProtocols: ['h2'],
      rejectUnauthorized: false,
      ...(options.servername ? { servername: options.servername } : {}),
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.session ? { session: options.session } : {}),
      ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    socket.on('session', (s: Buffer) => (ticket = s));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      if (socket.alpnProtocol !== 'h2') {
        socket.destroy();
        reject(new Error(`the edge did not negotiate h2 (ALPN: ${String(socket.alpnProtocol)})`));
        return;
      }
      const session = h2connect(`https://127.0.0.1:${port}`, { createConnection: () => socket });
      session.on('error', () => undefined);
      // Ready once the edge's SETTINGS arrived (until then remoteSettings holds the defaults).
      session.once('remoteSettings', () => resolve({ session, socket, ticket: () => ticket }));
      session.once('close', () => reject(new Error('the h2 session closed before the SETTINGS')));
    });
  });
}

export interface H2Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One request on an open h2 session; `headers` may set :authority, :method, :path and any other
 * field. Resolves once the stream has closed after a response (a response cut short resolves
 * with what came); rejects when the stream closed without one.
 */
export function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: string): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let text = '';
    let head: IncomingHttpHeaders = {};
    stream.setEncoding('utf8');
    stream.setTimeout(30_000, () => stream.destroy(new Error('h2 request timed out')));
    stream.on('response', (h) => (head = h));
    stream.on('data', (chunk: string) => (text += chunk));
    stream.once('error', reject);
    // A stream that ends without a response was cut (its connection closed): that is no answer.
    stream.once('close', () => {
      if (head[':status'] === undefined)
        reject(new Error(`the stream closed without a response (RST_STREAM code ${stream.rstCode ?? 'none'})`));
      else resolve({ status: Number(head[':status']), headers: head, body: text });
    });
    if (body !== undefined) stream.end(body);
  });
}

/**
 * One GET over a fresh h2 connection with SNI `servername` ('' sends none) and :authority
 * `authority`; the connection is closed afterwards.
 */
export async function h2Get(
  port: number,
  servername: string,
  authority: string,
  path = '/',
  options: Omit<H2ConnectOptions, 'servername'> = {},
): Promise<H2Reply & { authorized: boolean; reused: boolean; ticket: Buffer | undefined }> {
  const connection = await connectH2(port, { ...options, servername });
  try {
    const reply = await h2Request(connection.session, { ':path': path, ':authority': authority });
    return { ...reply, authorized: connection.socket.authorized, reused: connection.socket.isSessionReused(), ticket: connection.ticket() };
  } finally {
    connection.session.close();
  }
}
