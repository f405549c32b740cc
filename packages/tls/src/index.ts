export { createSelfSignedCertificate } from './self-signed.js';
export type { PemPair } from './self-signed.js';
export { SecureContextCache, toSecureContext } from './context-cache.js';
export type { CachedContext, LoadedPem } from './context-cache.js';
