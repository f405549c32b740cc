import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import { errorMessage, type Logger } from '@certfleet/observability';

/**
 * Proxies HTTPS traffic (and websockets) to the upstream. The edge is the first hop the
 * visitor's connection reaches, so X-Forwarded-* sent by the client are replaced, not trusted.
 */
export function createUpstreamProxy(deps: { upstream: URL; logger: Logger }) {
  const proxy = createProxyServer({
    target: deps.upstream.href,
    ws: true,
    xfwd: false,
    changeOrigin: false,
    proxyTimeout: 60_000,
    timeout: 120_000,
  });
  proxy.on('error', (error, req, target) => {
    deps.logger.warn({ err: errorMessage(error), url: req.url }, 'upstream request failed');
    if (target && 'writeHead' in target) {
      const res = target as ServerResponse;
      if (!res.headersSent) {
        const body = 'Bad Gateway: the upstream did not answer\n';
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      } else res.destroy();
    } else (target as Duplex | undefined)?.destroy();
  });

  function setForwarded(req: IncomingMessage): void {
    for (const header of Object.keys(req.headers)) if (header.startsWith('x-forwarded-')) delete req.headers[header];
    req.headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    req.headers['x-forwarded-proto'] = 'https';
    req.headers['x-forwarded-host'] = req.headers.host ?? '';
    req.headers['x-forwarded-port'] = String(req.socket.localPort ?? '');
  }

  return {
    web(req: IncomingMessage, res: ServerResponse): void {
      setForwarded(req);
      proxy.web(req, res);
    },
    ws(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      setForwarded(req);
      proxy.ws(req, socket, head);
    },
    close: () => proxy.close(),
  };
}
