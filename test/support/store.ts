/**
 * certfleet's store API, for code outside this package that uses these fixtures (the benchmarks
 * in bench/ have no package of their own and resolve workspace packages through this one).
 */
export { createStore } from '@certfleet/store';
export type { Store, StoredCertificate } from '@certfleet/store';
