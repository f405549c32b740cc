import type { Logger } from '@certfleet/observability';
import { errorMessage } from '@certfleet/observability';
import type { Store } from '@certfleet/store';
import { runAriPollTick } from './ari-poll.js';
import type { CaHandle } from './ca-pool.js';

/** Certificates whose renewal window one tick asks for, at most; the rest wait for the next tick. */
const POLLS_PER_TICK = 500;

/**
 * Every `tickMs`, one issuer of the fleet (a lease) asks the CAs again for the renewal windows
 * that are due to be asked (RFC 9773 Retry-After). The issuers do it because they hold the CA
 * accounts and their trust settings; the cost is the due slice, not the stored certificates.
 */
export function startAriPoller(deps: { store: Store; cas: readonly CaHandle[]; tickMs: number; logger: Logger; clock: () => number }) {
  const { store, logger } = deps;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  async function tick(): Promise<void> {
    try {
      await store.leases.run('ari-poll-tick', Math.max(60_000, deps.tickMs * 5), async () => {
        const outcomes = await runAriPollTick({
          renewals: store.renewals,
          certificates: store.certificates,
          now: deps.clock(),
          batch: POLLS_PER_TICK,
          windowFor: async (cert) => {
            const ca = deps.cas.find((handle) => handle.config.name === cert.ca);
            if (!ca || !cert.ariId) return null;
            return (await ca.account()).renewalInfo(cert.ariId);
          },
        });
        for (const o of outcomes) {
          const at = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
          const fields = {
            domain: o.name,
            outcome: o.outcome,
            renewAt: at(o.renewAt),
            ari: o.window && { start: at(o.window.start), end: at(o.window.end) },
            nextPollAt: at(o.nextPollAt),
          };
          if (o.outcome === 'moved') logger.info(fields, 'renewal window moved; renewal rescheduled');
          else logger.debug(fields, 'renewal window polled');
        }
      });
    } catch (error) {
      logger.warn({ err: errorMessage(error) }, 'ARI poll tick failed; trying again next tick');
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, deps.tickMs);
  }
  schedule();

  return {
    async close() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
