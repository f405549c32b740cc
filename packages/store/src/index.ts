import type { RedisClient } from './connect.js';
import { createTokenBuckets } from '@certfleet/budget';
import type { Keyring } from '@certfleet/sealing';
import { createChainStore } from './chains.js';
import { createResealer, type ResealOptions } from './reseal.js';
import { KeyringRequiredError, sealedValues } from './sealed-values.js';
import { createAllowlistStore } from './allowlist.js';
import { createCertificateStore } from './certificates.js';
import type { Durability } from './durability.js';
import { createChallengeStore } from './challenges.js';
import { createDecisionStore } from './decisions.js';
import { createNameStateStore } from './name-state.js';
import { createPauseStore } from './pauses.js';
import { redisKeys } from './keys.js';
import { createLeaseStore } from './leases.js';
import { subscribeCertChanged } from './events.js';
import { createRenewalIndex } from './renewals.js';
import { createRouteStore, subscribeRouteChanged } from './routes.js';
import { createServedNameStore } from './served.js';
import { createSharedSecretStore } from './shared-secrets.js';
import { createTicketKeyStore } from './ticket-keys.js';
import { createExpiryWatch } from './expiry-watch.js';
import { createHostnameRegistry } from './hostnames.js';
import { createIssueRecordStore } from './issue-records.js';
import { createAuditLog } from './audit.js';

export { budgetKeys, redisKeys } from './keys.js';
export type { BudgetKeys, RedisKeys } from './keys.js';
export type { StoredCertificate, CertificateDetails, CertificateSummary, CertificateStore, RetirementKind } from './certificates.js';
export { KeyringRequiredError } from './sealed-values.js';
export { RESEAL_KINDS } from './reseal.js';
export type { ResealCounts, ResealKind, ResealOptions, ResealReport } from './reseal.js';
export { RETIREMENT_KINDS } from './certificates.js';
export type { ServedNameStore } from './served.js';
export type { AllowlistStore } from './allowlist.js';
export { coveringEntries } from './allowlist.js';
export type { DecisionStore, StoredDecision, RememberedAnswer } from './decisions.js';
export type { ChallengeStore } from './challenges.js';
export type { RenewalIndex } from './renewals.js';
export type { SharedSecretStore, AcmeAccountRecord, PemPair } from './shared-secrets.js';
export { TICKET_KEY_BYTES } from './ticket-keys.js';
export type { TicketKeySet, TicketKeyStore } from './ticket-keys.js';
export type { LeaseStore } from './leases.js';
export { blocksIssuance } from './name-state.js';
export type { IssuanceState, NameState, NameStateStore } from './name-state.js';
export type { Pause, PauseStore } from './pauses.js';
export { InvalidRouteError, parseRouteUrl } from './routes.js';
export type { Route, RouteStore } from './routes.js';
export { connectRedis, connectTo, redisReady } from './connect.js';
export { replicaAcknowledgement } from './durability.js';
export type { Durability, ReplicaAcknowledgementOptions } from './durability.js';
export { permanentConnectionProblem } from './connection-errors.js';
export { isFailoverError, retryAcrossFailover } from './failover-retry.js';
export type { FailoverRetryOptions } from './failover-retry.js';
export { checkRedisSettings, warnAboutRedisSettings } from './settings-check.js';
export type { RedisSettingsCheck } from './settings-check.js';
export type { RedisClient } from './connect.js';
export type { ExpiringCertificate, ExpiryWatch } from './expiry-watch.js';
export { HOSTNAME_INDEX_STATUSES, indexStatus } from './hostnames.js';
export type { CertificateFacts, HostnameFacts } from './hostname-facts.js';
export type { ExpiringName, HostnameIndexStatus, HostnameRecord, HostnameRegistry, NamePageQuery, StatusInputs } from './hostnames.js';
export { KEPT_VALIDATION_ERRORS } from './issue-records.js';
export type { BudgetHoldRecord, IssueRecordStore, ValidationErrorRecord } from './issue-records.js';
export { AUDIT_MAXLEN } from './audit.js';
export type { AuditEntry, AuditLog } from './audit.js';

export interface StoreOptions {
  /**
   * Seals every private key and secret written, opens those read (CERTFLEET_KEK_FILE). Without
   * it the store serves what holds no key material (inventory, allowlist, routes, queues,
   * `certificates.describe`), and refuses with a {@link KeyringRequiredError} the rest.
   */
  keyring?: Keyring | undefined;
  /** What a certificate save waits for before it returns (the issuer: `replicaAcknowledgement(redis)`). */
  durability?: Durability;
}

/**
 * Every store of one deployment (one prefix) over one Redis connection. The connection and the
 * key model stay inside: callers get named operations, never a raw key or `redis`.
 */
export function createStore(redis: RedisClient, prefix: string, options: StoreOptions = {}) {
  const keys = redisKeys(prefix);
  const sealed = sealedValues(options.keyring);
  const hostnames = createHostnameRegistry(redis, keys);
  // A registered hostname's status index follows its name-state and its certificate (see
  // hostnames.ts). An index write that fails must not fail the change that caused it: the index
  // is only one step behind, and readers recompute each status anyway.
  const refreshStatus = (names: readonly string[]) =>
    names.length === 0 ? Promise.resolve() : hostnames.refreshStatus(names).catch(() => undefined);
  const certificateStore = createCertificateStore(redis, keys, createChainStore(redis, keys), sealed, options.durability);
  const certificates: typeof certificateStore = {
    ...certificateStore,
    async retire(name, kind, reason, now) {
      await certificateStore.retire(name, kind, reason, now);
      await refreshStatus([name]);
    },
    async remove(name) {
      const removed = await certificateStore.remove(name);
      await refreshStatus([name]);
      return removed;
    },
    async removeExpiredRetired(now, limit) {
      const removed = await certificateStore.removeExpiredRetired(now, limit);
      await refreshStatus(removed);
      return removed;
    },
  };
  return {
    /** BullMQ's key prefix for this deployment's queues (pass it with a connection of BullMQ's own). */
    queuePrefix: keys.queuePrefix,
    certificates,
    allowlist: createAllowlistStore(redis, keys),
    challenges: createChallengeStore(redis, keys, sealed),
    renewals: createRenewalIndex(redis, keys),
    secrets: createSharedSecretStore(redis, keys, sealed),
    decisions: createDecisionStore(redis, keys),
    nameStates: createNameStateStore(redis, keys, (name) => refreshStatus([name])),
    pauses: createPauseStore(redis, keys),
    served: createServedNameStore(redis, keys),
    routes: createRouteStore(redis, keys),
    ticketKeys: createTicketKeyStore(redis, keys, sealed),
    leases: createLeaseStore(redis, keys),
    /** The renewer's walk of the inventory for `certificate.expiring` webhooks. */
    expiryWatch: createExpiryWatch(redis, keys),
    /** Hostnames registered through the API or the CLI, and their name/status indexes. */
    hostnames,
    /** Failed validations and budget holds, per name, as a customer should see them. */
    issueRecords: createIssueRecordStore(redis, keys),
    /** Who changed which hostname (capped stream). */
    audit: createAuditLog(redis, keys),
    /** The fleet's token buckets (CA budgets, new-name limits) over this store's connection. */
    budgets: createTokenBuckets(redis),
    /**
     * `certfleet keys rotate`: re-seals every record not under the keyring's current key (see
     * reseal.ts). Needs the keyring.
     */
    resealAll: (resealOptions?: ResealOptions) => {
      if (!options.keyring) throw new KeyringRequiredError('rotating the at-rest key');
      return createResealer(redis, keys, options.keyring)(resealOptions);
    },
    /** The buckets' keys, by the limit each mirrors. */
    budgetKeys: keys.buckets,
    /**
     * Subscribes to "a name's certificate (or tls-alpn-01 answer) changed" on a connection of
     * its own; returns a function that unsubscribes. See events.ts.
     */
    subscribeCertChanged: (onChange: (name: string) => void, onAlpnChange?: (name: string) => void) =>
      subscribeCertChanged(redis, keys, onChange, onAlpnChange),
    /**
     * Subscribes to "a name's route changed"; `onResubscribed` after a reconnect (messages may
     * have been lost meanwhile). Returns a function that unsubscribes. See routes.ts.
     */
    subscribeRouteChanged: (onChange: (name: string) => void, onResubscribed: () => void) =>
      subscribeRouteChanged(redis, keys, onChange, onResubscribed),
  };
}

export type Store = ReturnType<typeof createStore>;
export { createMetricReads } from './metric-reads.js';
export type { CertificateCounts, Expiry, MetricReads } from './metric-reads.js';
