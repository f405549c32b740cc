export { allowlistPolicy, cachedPolicy } from './policy.js';
export type { Decision, DecisionCacheOptions, DomainPolicy } from './policy.js';
