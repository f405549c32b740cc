/**
 * What one policy says about a name: allow, deny, or abstain (no opinion: the next policy in
 * the chain is asked). `ttlMs` is how long the answer may be trusted.
 */
export interface PolicyAnswer {
  verdict: 'allow' | 'deny' | 'abstain';
  reason: string;
  ttlMs: number;
}

/**
 * One way of deciding whether a name is ours. Runs on the handshake path (for names that are
 * not cached): bounded in time, no side effects. Throws {@link PolicySourceUnavailableError}
 * when the source it asks (DNS, the ask endpoint) cannot answer; the chain then uses the
 * policy's last definite answer if it is recent enough (`maxStaleMs`), else denies.
 */
export interface DomainPolicy {
  readonly name: string;
  readonly maxStaleMs: number;
  evaluate(name: string): Promise<PolicyAnswer>;
}

/** The chain's final answer for a name. */
export interface Decision {
  allowed: boolean;
  /** The policy that decided, or `default` when every policy abstained. */
  policy: string;
  reason: string;
  ttlMs: number;
  /** True when it rests on a remembered answer because a source was down. */
  stale?: boolean;
}

/** The source a policy relies on did not answer (timeout, network error, SERVFAIL, 5xx). */
export class PolicySourceUnavailableError extends Error {
  override readonly name = 'PolicySourceUnavailableError';
}
