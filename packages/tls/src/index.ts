export { createSelfSignedCertificate } from './self-signed.js';
export type { PemPair } from './self-signed.js';
export { createNativeMemoryReclaimer } from './native-memory.js';
export { TicketKeyRing, useTicketKeyRing } from './session-tickets.js';
export type { TicketKeys } from './session-tickets.js';
export { SecureContextCache, estimatedContextBytes, toSecureContext } from './context-cache.js';
export type { CachedContext, LoadedPem, SecureContextCacheOptions } from './context-cache.js';
