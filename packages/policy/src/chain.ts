import type { DecisionStore } from '@certfleet/store';
import { PolicySourceUnavailableError, type Decision, type DomainPolicy, type PolicyAnswer } from './types.js';

export interface PolicyChainOptions {
  policies: readonly DomainPolicy[];
  /** Where definite answers are remembered for when a source is down; absent = no memory. */
  memory?: Pick<DecisionStore, 'remembered' | 'remember'>;
  /** Read-only (`certfleet domains check`): use memory, never write it. */
  readOnly?: boolean;
  /** How long a deny is trusted when a source is down and nothing recent is remembered. */
  unavailableTtlMs: number;
  /** How long "every policy abstained" is trusted. */
  defaultDenyTtlMs: number;
  clock?: () => number;
}

/**
 * The policies in order; the first definite answer (allow or deny) wins, and when every policy
 * abstains the name is denied. A policy whose source is down answers with its last definite
 * answer if that is at most `maxStaleMs` old (shared by the fleet through Redis), else denies.
 */
export function createPolicyChain(options: PolicyChainOptions) {
  const clock = options.clock ?? Date.now;

  async function answerOf(policy: DomainPolicy, name: string): Promise<PolicyAnswer & { stale?: boolean }> {
    try {
      const answer = await policy.evaluate(name);
      if (answer.verdict !== 'abstain' && options.memory && !options.readOnly && policy.maxStaleMs > 0) {
        await options.memory
          .remember(name, policy.name, { verdict: answer.verdict, reason: answer.reason, at: clock() }, answer.ttlMs + policy.maxStaleMs)
          .catch(() => undefined);
      }
      return answer;
    } catch (error) {
      if (!(error instanceof PolicySourceUnavailableError)) throw error;
      const remembered = await options.memory?.remembered(name, policy.name).catch(() => null);
      const age = remembered ? clock() - remembered.at : Number.POSITIVE_INFINITY;
      if (remembered && age <= policy.maxStaleMs) {
        return {
          verdict: remembered.verdict,
          reason: `${remembered.reason} (${Math.round(age / 1000)} s ago; now: ${error.message})`,
          ttlMs: Math.min(options.unavailableTtlMs, policy.maxStaleMs - age),
          stale: true,
        };
      }
      return {
        verdict: 'deny',
        reason: `${error.message}, and no answer from the last ${Math.round(policy.maxStaleMs / 1000)} s`,
        ttlMs: options.unavailableTtlMs,
      };
    }
  }

  return {
    policies: options.policies.map((p) => p.name),
    async decide(name: string): Promise<Decision> {
      for (const policy of options.policies) {
        const answer = await answerOf(policy, name);
        if (answer.verdict === 'abstain') continue;
        return {
          allowed: answer.verdict === 'allow',
          policy: policy.name,
          reason: answer.reason,
          ttlMs: answer.ttlMs,
          ...(answer.stale ? { stale: true } : {}),
        };
      }
      return {
        allowed: false,
        policy: 'default',
        reason: `no policy allowed it (${options.policies.map((p) => p.name).join(', ')})`,
        ttlMs: options.defaultDenyTtlMs,
      };
    },
  };
}

export type PolicyChain = ReturnType<typeof createPolicyChain>;
