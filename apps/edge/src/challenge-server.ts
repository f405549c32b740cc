import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkHostname } from '@certfleet/domain';
import { errorMessage, type Logger } from '@certfleet/observability';
import type { ChallengeStore } from '@certfleet/store';

const CHALLENGE_PATH = '/.well-known/acme-challenge/';
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * The plain-HTTP port: answers http-01 challenges from Redis (so any edge can answer for any
 * issuer), the probes, and redirects everything else to https on the same host.
 * `/healthz`: the process is up and answering (restart it if not). `/readyz`: it should be sent
 * traffic; not while it cannot reach Redis (it can serve only the names it holds in memory) nor
 * while it drains after SIGTERM.
 */
export function createHttpHandler(deps: {
  challenges: ChallengeStore;
  httpsPort: number;
  readiness: () => { ready: boolean; reason: string };
  logger: Logger;
}) {
  const portSuffix = deps.httpsPort === 443 ? '' : `:${deps.httpsPort}`;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path.startsWith(CHALLENGE_PATH)) {
      const token = path.slice(CHALLENGE_PATH.length);
      if (!TOKEN.test(token)) return send(res, 404, 'no such challenge\n');
      try {
        const answer = await deps.challenges.get(token);
        if (answer === null) return send(res, 404, 'no such challenge\n');
        deps.logger.debug({ token }, 'answered http-01 challenge');
        return send(res, 200, answer);
      } catch (error) {
        deps.logger.warn({ err: errorMessage(error) }, 'challenge lookup failed');
        return send(res, 503, 'challenge store unavailable\n');
      }
    }
    if (path === '/healthz') return send(res, 200, 'ok\n');
    if (path === '/readyz') {
      const { ready, reason } = deps.readiness();
      return send(res, ready ? 200 : 503, `${ready ? 'ready' : 'not ready'}: ${reason}\n`);
    }
    const host = checkHostname((req.headers.host ?? '').replace(/:\d+$/, ''));
    if (!host.ok) return send(res, 400, 'Bad Request: missing or invalid Host header\n');
    res.writeHead(308, { location: `https://${host.name}${portSuffix}${req.url ?? '/'}`, 'content-length': 0 });
    res.end();
  };
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
