export { parseBucketSpec, formatBucketSpec } from './bucket-spec.js';
export type { BucketSpec } from './bucket-spec.js';
export { formatDuration, parseDuration } from './duration.js';
export { createTokenBuckets } from './token-buckets.js';
export type { TakeResult, TokenBuckets } from './token-buckets.js';
export { takeAll } from './multi-take.js';
export { takeAllAt } from './bucket-math.js';
export type { BucketState, BucketTakeInput, BucketTakeOutcome } from './bucket-math.js';
export type { BudgetClaim, TakeAllResult } from './multi-take.js';
