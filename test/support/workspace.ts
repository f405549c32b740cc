/**
 * The workspace packages the benchmarks drive directly (bench/ is not a package of its own:
 * it resolves dependencies through this one, like the rest of the fixtures).
 */
export { createIssueQueue } from '@certfleet/queue';
export { runRenewalTick } from '@certfleet/renewal';
export { createStore, redisKeys } from '@certfleet/store';
export { Redis } from 'ioredis';
export type { StoredCertificate } from '@certfleet/store';
export { createKeyring, keyIdOf } from '@certfleet/sealing';
export type { Keyring } from '@certfleet/sealing';
export { createWebhookQueue } from '@certfleet/queue';
export { createWebhookPublisher, startWebhookWorker, verifySignature } from '@certfleet/webhooks';
export { createLogger, createRegistry } from '@certfleet/observability';
