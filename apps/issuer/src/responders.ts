import { createAlpnChallengeCertificate, type ChallengeResponder } from '@certfleet/acme';
import type { Store } from '@certfleet/store';
import { writeWithinOrder as withinOrder } from './issue/order-writes.js';

/** How long a challenge answer stays in Redis: longer than any validation takes. */
const CHALLENGE_TTL_MS = 10 * 60_000;
/** http-01: the key authorization in Redis, served by whichever edge the CA reaches on port 80. */
export function http01Responder(store: Store): ChallengeResponder {
  return {
    type: 'http-01',
    present: (c) => withinOrder(() => store.challenges.put(c.token, c.keyAuthorization, CHALLENGE_TTL_MS)),
    remove: (c) => withinOrder(() => store.challenges.remove(c.token)),
  };
}

/** tls-alpn-01: a challenge certificate in Redis; edges are told at once and serve it for ALPN acme-tls/1. */
export function tlsAlpn01Responder(store: Store): ChallengeResponder {
  return {
    type: 'tls-alpn-01',
    present: async (c) => {
      const certificate = await createAlpnChallengeCertificate(c);
      await withinOrder(() => store.challenges.putAlpn(c.domain, certificate, CHALLENGE_TTL_MS));
    },
    remove: (c) => withinOrder(() => store.challenges.removeAlpn(c.domain)),
  };
}
