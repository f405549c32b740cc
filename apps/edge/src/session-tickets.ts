import { randomBytes } from 'node:crypto';
import type { Server } from 'node:tls';
import { errorMessage, type Logger } from '@certfleet/observability';
import { TICKET_KEY_BYTES, type TicketKeyStore } from '@certfleet/store';
import { TicketKeyRing, useTicketKeyRing } from '@certfleet/tls';

/**
 * Keeps `server`'s session-ticket keys equal to the fleet's, so a ticket issued by any edge
 * process resumes on any other. Every edge asks Redis to rotate when due (the script rotates once
 * per interval for the whole fleet) a few times per interval, and picks up the result. While
 * Redis is away the keys in hand go on working.
 */
export async function shareSessionTicketKeys(deps: {
  server: Server;
  store: TicketKeyStore;
  rotateEveryMs: number;
  logger: Logger;
}): Promise<{ stop(): void }> {
  // Redis away at start (an edge serving from its local store): keys of this process's own
  // until the fleet's can be read, so tickets work, though not across processes meanwhile.
  const first = await deps.store.rotateIfDue(deps.rotateEveryMs).catch((error: unknown) => {
    deps.logger.warn(
      { err: errorMessage(error) },
      "could not read the fleet's session-ticket keys; using this process's own until Redis answers",
    );
    return { current: randomBytes(TICKET_KEY_BYTES), next: randomBytes(TICKET_KEY_BYTES), previous: undefined, rotatedAt: 0 };
  });
  const ring = new TicketKeyRing(first);
  const hooked = useTicketKeyRing(deps.server, ring);
  if (!hooked) deps.logger.warn('this Node cannot keep the previous session-ticket key; tickets will not survive a rotation');
  let lastRotatedAt = 0;
  const refresh = async () => {
    try {
      const keys = await deps.store.rotateIfDue(deps.rotateEveryMs);
      ring.update(keys);
      if (!hooked) useTicketKeyRing(deps.server, ring);
      if (keys.rotatedAt !== lastRotatedAt) {
        if (lastRotatedAt !== 0) deps.logger.info({ rotatedAt: new Date(keys.rotatedAt).toISOString() }, 'session-ticket keys rotated');
        lastRotatedAt = keys.rotatedAt;
      }
    } catch (error) {
      deps.logger.warn({ err: errorMessage(error) }, 'could not refresh the session-ticket keys; keeping the ones in hand');
    }
  };
  await refresh();
  // The next key reaches every edge a whole interval before it is used, so a quarter of an
  // interval (at most a minute) between refreshes is plenty.
  const timer = setInterval(() => void refresh(), Math.max(250, Math.min(deps.rotateEveryMs / 4, 60_000)));
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
