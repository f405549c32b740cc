import type { AllowlistStore } from '@certfleet/store';
import type { DomainPolicy } from './types.js';

/**
 * How long an allowlist answer is trusted. `certfleet domains rm` deletes the fleet's shared
 * decision at once, but each edge process keeps its own copy up to this long, so a removed name
 * can still be issued for within this window. Removal never revokes: a name that already has a
 * certificate is served until the certificate is retired at renewal (left-policy).
 */
const ALLOWLIST_TTL_MS = 60_000;
/** Short, so a name added a moment ago is served soon. */
const ALLOWLIST_ABSTAIN_TTL_MS = 5_000;

/** Allows names on the Redis allowlist (exact or under a `*.suffix` entry); abstains otherwise. */
export function allowlistPolicy(allowlist: AllowlistStore): DomainPolicy {
  return {
    name: 'allowlist',
    maxStaleMs: 0,
    async evaluate(name) {
      const entry = await allowlist.match(name);
      if (entry === null) {
        return { verdict: 'abstain', reason: 'not on the allowlist', ttlMs: ALLOWLIST_ABSTAIN_TTL_MS };
      }
      return {
        verdict: 'allow',
        reason: entry === name ? 'on the allowlist' : `on the allowlist under "${entry}"`,
        ttlMs: ALLOWLIST_TTL_MS,
      };
    },
  };
}
