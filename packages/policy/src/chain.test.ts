import { describe, expect, it } from 'vitest';
import type { RememberedAnswer } from '@certfleet/store';
import { createPolicyChain } from './chain.js';
import { PolicySourceUnavailableError, type DomainPolicy, type PolicyAnswer } from './types.js';

const fixed = (name: string, answer: PolicyAnswer | Error, maxStaleMs = 60_000): DomainPolicy => ({
  name,
  maxStaleMs,
  evaluate: async () => {
    if (answer instanceof Error) throw answer;
    return answer;
  },
});
const allow: PolicyAnswer = { verdict: 'allow', reason: 'yes', ttlMs: 1_000 };
const deny: PolicyAnswer = { verdict: 'deny', reason: 'no', ttlMs: 1_000 };
const abstain: PolicyAnswer = { verdict: 'abstain', reason: 'unknown', ttlMs: 1_000 };

function memory() {
  const map = new Map<string, RememberedAnswer>();
  return {
    map,
    remembered: async (name: string, policy: string) => map.get(`${policy}/${name}`) ?? null,
    remember: async (name: string, policy: string, answer: RememberedAnswer) => void map.set(`${policy}/${name}`, answer),
  };
}

describe('policy chain', () => {
  const options = { unavailableTtlMs: 5_000, defaultDenyTtlMs: 5_000 };

  it('takes the first definite answer, in order', async () => {
    const chain = createPolicyChain({ ...options, policies: [fixed('a', abstain), fixed('b', deny), fixed('c', allow)] });
    expect(await chain.decide('x.example')).toMatchObject({ allowed: false, policy: 'b', reason: 'no' });
    const other = createPolicyChain({ ...options, policies: [fixed('a', abstain), fixed('c', allow), fixed('b', deny)] });
    expect(await other.decide('x.example')).toMatchObject({ allowed: true, policy: 'c' });
  });

  it('denies by default when every policy abstains', async () => {
    const chain = createPolicyChain({ ...options, policies: [fixed('a', abstain), fixed('b', abstain)] });
    expect(await chain.decide('x.example')).toMatchObject({ allowed: false, policy: 'default', ttlMs: 5_000 });
  });

  it('uses a remembered answer while the source is down, within maxStale, and denies after it', async () => {
    let now = 0;
    const mem = memory();
    let source: PolicyAnswer | Error = allow;
    const policy: DomainPolicy = {
      name: 'dns',
      maxStaleMs: 10_000,
      evaluate: async () => {
        if (source instanceof Error) throw source;
        return source;
      },
    };
    const chain = createPolicyChain({ ...options, policies: [policy], memory: mem, clock: () => now });
    expect((await chain.decide('x.example')).allowed).toBe(true);
    source = new PolicySourceUnavailableError('SERVFAIL');
    now = 9_000;
    const stale = await chain.decide('x.example');
    expect(stale).toMatchObject({ allowed: true, stale: true });
    expect(stale.reason).toContain('SERVFAIL');
    now = 11_000;
    expect(await chain.decide('x.example')).toMatchObject({ allowed: false, policy: 'dns' });
  });

  it('never writes memory when read-only', async () => {
    const mem = memory();
    const chain = createPolicyChain({ ...options, policies: [fixed('ask', allow)], memory: mem, readOnly: true });
    await chain.decide('x.example');
    expect(mem.map.size).toBe(0);
  });
});
