export { LocalCertificateStore, LocalStoreOwnerError, HIGH_WATER, LOW_WATER } from './local-store.js';
export type { LocalCertificate, LocalCertificateStoreOptions, LocalPemPair } from './local-store.js';
