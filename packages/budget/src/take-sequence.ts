import type { BudgetClaim, TakeAllResult } from './multi-take.js';

/**
 * What Redis Cluster hashes of `key` to find its slot: the part between the first `{` and the
 * next `}` when that part is not empty, else the whole key. Keys with the same tag share a slot.
 */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/** The claims grouped by hash tag, groups in the order their first claim comes, claims in theirs. */
export function groupByHashTag(claims: readonly BudgetClaim[]): BudgetClaim[][] {
  const groups = new Map<string, BudgetClaim[]>();
  for (const claim of claims) {
    const tag = hashTagOf(claim.key);
    const group = groups.get(tag);
    if (group) group.push(claim);
    else groups.set(tag, [claim]);
  }
  return [...groups.values()];
}

/** One group's atomic take, and the refund of a take that was granted. */
export interface GroupOperations {
  take(group: readonly BudgetClaim[]): Promise<TakeAllResult>;
  refund(group: readonly BudgetClaim[]): Promise<void>;
}

/**
 * An all-or-nothing take over groups that cannot share one script (different Cluster slots):
 * each group is taken atomically, in order; at the first refusal, or error, every group already
 * granted gets its tokens back (latest first) and the answer is that refusal (or the error).
 *
 * What it gives up against one script, all on the side of refusing, never of granting more:
 * - between a group's take and its refund, its tokens are missing, so a concurrent take may be
 *   refused that one script would have granted (and retries after `retryAfterMs`);
 * - a refusal's `retryAfterMs` counts the refusing group only (later groups are not asked), so
 *   the retry may come early and be refused again;
 * - a refund lost to an error (Redis gone between take and refund) keeps those tokens taken
 *   until the bucket refills.
 */
export async function takeInSequence(groups: readonly (readonly BudgetClaim[])[], operations: GroupOperations): Promise<TakeAllResult> {
  const granted: (readonly BudgetClaim[])[] = [];
  let refusal: TakeAllResult | undefined;
  let failure: { error: unknown } | undefined;
  for (const group of groups) {
    try {
      const result = await operations.take(group);
      if (!result.granted) {
        refusal = result;
        break;
      }
      granted.push(group);
    } catch (error) {
      failure = { error };
      break;
    }
  }
  if (!refusal && !failure) return { granted: true, retryAfterMs: 0, refusedBy: undefined };
  // Every refund is tried, whatever happens to the others.
  for (const group of granted.reverse()) {
    try {
      await operations.refund(group);
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
  return refusal as TakeAllResult;
}
