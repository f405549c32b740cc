import { createServer, type Server } from 'node:http';

export type AskMode = 'allow' | 'deny' | 'slow' | 'error';

/**
 * A provider's "ask" endpoint: GET /?domain=NAME answers by the mode set for the name
 * (allow: 200, deny: 403, slow: 200 after `slowMs`, error: 503), default deny; counts calls
 * and keeps the time of the last.
 * `down()` stops listening (connection refused), `up()` listens again on the same port.
 */
export async function startAskEndpoint(options: { slowMs?: number } = {}) {
  const modes = new Map<string, AskMode>();
  const calls = new Map<string, number>();
  const lastCalled = new Map<string, number>();
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const domain = new URL(req.url ?? '/', 'http://x').searchParams.get('domain') ?? '';
    calls.set(domain, (calls.get(domain) ?? 0) + 1);
    lastCalled.set(domain, Date.now());
    const mode = modes.get(domain) ?? 'deny';
    const answer = () => {
      const status = mode === 'allow' || mode === 'slow' ? 200 : mode === 'error' ? 503 : 403;
      res.writeHead(status).end();
    };
    if (mode === 'slow') setTimeout(answer, options.slowMs ?? 3_000);
    else answer();
  };
  let server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/check`,
    set(domain: string, mode: AskMode) {
      modes.set(domain, mode);
    },
    calls: (domain: string) => calls.get(domain) ?? 0,
    /** When the endpoint was last asked about `domain` (ms since the epoch), or undefined. */
    lastCalledAt: (domain: string) => lastCalled.get(domain),
    async down() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async up() {
      server = createServer(handler);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
