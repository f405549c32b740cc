import type { RedisClient } from './connect.js';
import { holdOf, validationErrorOf } from './hostname-facts.js';
import type { RedisKeys } from './keys.js';

/** One failed validation as a customer should see it: when, the ACME problem type, and what to do. */
export interface ValidationErrorRecord {
  at: number;
  type: string;
  detail: string;
}

/** A CA budget that holds a name's order back: which budget, until when, and when that was found. */
export interface BudgetHoldRecord {
  budget: string;
  until: number;
  at: number;
}

/** How many failed validations a name keeps: enough to see a pattern, few enough to stay a small list. */
export const KEPT_VALIDATION_ERRORS = 5;
const MAX_DETAIL = 1_000;

/**
 * What the issuer found that a customer can act on, kept per name (in the name's slot): its last
 * few failed validations, and the CA budget holding its order back. Both are cleared when the
 * name gets a certificate (`nameStates.markActive`); a hold also expires by itself at `until`.
 */
export interface IssueRecordStore {
  addValidationError(name: string, error: ValidationErrorRecord): Promise<void>;
  /** Newest first. */
  validationErrors(name: string): Promise<ValidationErrorRecord[]>;
  hold(name: string, hold: BudgetHoldRecord): Promise<void>;
  /** The hold still in force at `now`, or null. */
  currentHold(name: string, now: number): Promise<BudgetHoldRecord | null>;
  /** Forgets both (a purged hostname). */
  clear(name: string): Promise<void>;
}

export function createIssueRecordStore(redis: RedisClient, keys: RedisKeys): IssueRecordStore {
  return {
    async addValidationError(name, error) {
      const entry = JSON.stringify({ at: error.at, type: error.type.slice(0, 200), detail: error.detail.slice(0, MAX_DETAIL) });
      await redis
        .multi()
        .lpush(keys.validationErrors(name), entry)
        .ltrim(keys.validationErrors(name), 0, KEPT_VALIDATION_ERRORS - 1)
        .exec();
    },
    async validationErrors(name) {
      const entries = await redis.lrange(keys.validationErrors(name), 0, KEPT_VALIDATION_ERRORS - 1);
      return entries.flatMap(validationErrorOf);
    },
    async hold(name, hold) {
      const ttl = Math.max(1, hold.until - hold.at);
      await redis.set(keys.budgetHold(name), JSON.stringify(hold), 'PX', ttl);
    },
    async currentHold(name, now) {
      return holdOf(await redis.get(keys.budgetHold(name)), now);
    },
    async clear(name) {
      await redis.del(keys.validationErrors(name), keys.budgetHold(name));
    },
  };
}
