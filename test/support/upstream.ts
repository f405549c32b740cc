import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { WebSocketServer } from 'ws';

export interface Upstream {
  url: string;
  /** Headers of the requests received, newest last. */
  requests: { url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/**
 * The sample upstream: answers `hello from upstream` and, on /echo-headers, the request's
 * headers as JSON; echoes websocket messages.
 */
export async function startUpstream(): Promise<Upstream> {
  const requests: Upstream['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    if (req.url === '/echo-headers') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.headers));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello from upstream\n');
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo: ${String(data)}`)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface NamedUpstream {
  host: string;
  port: number;
  close(): Promise<void>;
}

/**
 * An upstream on `host`:`port` (loopback addresses 127.0.0.2, 127.0.0.3... share one port, as
 * the addresses of one DNS name would) that says who it is: `/` answers JSON
 * `{server, path, headers}`, `/slow` never answers, websocket messages come back as
 * `echo from HOST: MESSAGE`.
 */
export async function startNamedUpstream(host: string, port: number): Promise<NamedUpstream> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/slow') return;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ server: host, path: req.url, headers: req.headers }));
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo from ${host}: ${String(data)}`)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    host,
    port,
    close: () =>
      new Promise((resolve) => {
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
