import type { Redis } from 'ioredis';
import { createAllowlistStore } from './allowlist.js';
import { createCertificateStore } from './certificates.js';
import { createChallengeStore } from './challenges.js';
import { createDecisionStore } from './decisions.js';
import { createNameStateStore } from './name-state.js';
import { createPauseStore } from './pauses.js';
import { redisKeys } from './keys.js';
import { createRenewalIndex } from './renewals.js';
import { createRouteStore } from './routes.js';
import { createServedNameStore } from './served.js';
import { createSharedSecretStore } from './shared-secrets.js';
import { createTicketKeyStore } from './ticket-keys.js';

export { redisKeys } from './keys.js';
export type { RedisKeys } from './keys.js';
export type { StoredCertificate, CertificateSummary, CertificateStore, RetirementKind } from './certificates.js';
export { RETIREMENT_KINDS } from './certificates.js';
export type { ServedNameStore } from './served.js';
export type { AllowlistStore } from './allowlist.js';
export { coveringEntries } from './allowlist.js';
export type { DecisionStore, StoredDecision, RememberedAnswer } from './decisions.js';
export type { ChallengeStore } from './challenges.js';
export type { RenewalIndex } from './renewals.js';
export type { SharedSecretStore, AcmeAccountRecord } from './shared-secrets.js';
export { TICKET_KEY_BYTES } from './ticket-keys.js';
export type { TicketKeySet, TicketKeyStore } from './ticket-keys.js';
export { withLease } from './leases.js';
export { blocksIssuance } from './name-state.js';
export type { IssuanceState, NameState, NameStateStore } from './name-state.js';
export type { Pause, PauseStore } from './pauses.js';
export { subscribeCertChanged } from './events.js';
export { InvalidRouteError, parseRouteUrl, subscribeRouteChanged } from './routes.js';
export type { Route, RouteStore } from './routes.js';
export { connectRedis, connectTo, redisReady } from './connect.js';
export type { RedisClient } from './connect.js';

/** Every store of one deployment (one prefix) over one Redis connection. */
export function createStore(redis: Redis, prefix: string) {
  const keys = redisKeys(prefix);
  return {
    redis,
    keys,
    certificates: createCertificateStore(redis, keys),
    allowlist: createAllowlistStore(redis, keys),
    challenges: createChallengeStore(redis, keys),
    renewals: createRenewalIndex(redis, keys),
    secrets: createSharedSecretStore(redis, keys),
    decisions: createDecisionStore(redis, keys),
    nameStates: createNameStateStore(redis, keys),
    pauses: createPauseStore(redis, keys),
    served: createServedNameStore(redis, keys),
    routes: createRouteStore(redis, keys),
    ticketKeys: createTicketKeyStore(redis, keys),
  };
}

export type Store = ReturnType<typeof createStore>;
