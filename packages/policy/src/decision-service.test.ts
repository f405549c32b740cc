import { describe, expect, it } from 'vitest';
import type { DecisionStore, StoredDecision } from '@certfleet/store';
import type { PolicyChain } from './chain.js';
import { createDecisionService } from './decision-service.js';
import type { Decision } from './types.js';

const T0 = Date.UTC(2027, 0, 1);
const name = 'shop.example';

/** The fleet's Redis, in memory: decisions and evaluation locks that lapse on the shared clock. */
function fakeFleet() {
  const clock = { now: T0 };
  const decisions = new Map<string, StoredDecision>();
  const locks = new Map<string, number>();
  const log: string[] = [];
  /** Runs before each read of a decision: lets a test act as another process meanwhile. */
  let onGet: (() => void) | undefined;
  const store: DecisionStore = {
    async get(n) {
      log.push('get');
      onGet?.();
      return decisions.get(n) ?? null;
    },
    async put(n, decision) {
      log.push('put');
      decisions.set(n, decision);
    },
    async lock(n, ttlMs) {
      log.push('lock');
      if ((locks.get(n) ?? 0) > clock.now) return false;
      locks.set(n, clock.now + ttlMs);
      return true;
    },
    async unlock(n) {
      log.push('unlock');
      locks.delete(n);
    },
    remembered: async () => null,
    remember: async () => undefined,
    forget: async (names) => {
      for (const n of names) decisions.delete(n);
    },
  };
  const stored = (allowed: boolean, ttlMs = 60_000): StoredDecision => ({
    allowed,
    policy: 'other-process',
    reason: 'decided elsewhere',
    at: clock.now,
    expiresAt: clock.now + ttlMs,
  });
  return { clock, decisions, locks, log, store, stored, setOnGet: (run: (() => void) | undefined) => (onGet = run) };
}

/** A policy chain that allows everything, counts its evaluations, and can be held open or made to fail. */
function fakeChain() {
  let calls = 0;
  let release: (() => void) | undefined;
  let failure: Error | undefined;
  let held = false;
  const chain: PolicyChain = {
    policies: ['fake'],
    async decide(): Promise<Decision> {
      calls += 1;
      if (failure) throw failure;
      if (held) await new Promise<void>((resolve) => (release = resolve));
      return { allowed: true, policy: 'fake', reason: 'listed', ttlMs: 60_000 };
    },
  };
  return {
    chain,
    calls: () => calls,
    hold: () => (held = true),
    release: () => release?.(),
    fail: (error: Error | undefined) => (failure = error),
  };
}

function service(fleet: ReturnType<typeof fakeFleet>, chain: ReturnType<typeof fakeChain>, evaluated: string[] = []) {
  return createDecisionService({
    chain: chain.chain,
    store: fleet.store,
    localMax: 100,
    evaluationTimeoutMs: 1_000,
    clock: () => fleet.clock.now,
    onEvaluated: (n) => evaluated.push(n),
  });
}

describe('the decision service', () => {
  it('evaluates a name under the fleet lock, stores the decision, unlocks, and tells onEvaluated once', async () => {
    const fleet = fakeFleet();
    const chain = fakeChain();
    const evaluated: string[] = [];
    const decision = await service(fleet, chain, evaluated).evaluate(name);
    expect(decision).toEqual({ allowed: true, policy: 'fake', reason: 'listed', at: T0, expiresAt: T0 + 60_000 });
    expect(fleet.log).toEqual(['lock', 'get', 'put', 'unlock']);
    expect(fleet.decisions.get(name)).toEqual(decision);
    expect(fleet.locks.size).toBe(0);
    expect(evaluated).toEqual([name]);
  });

  it('collapses concurrent evaluations of one name in one process into one', async () => {
    const fleet = fakeFleet();
    const chain = fakeChain();
    const decisions = service(fleet, chain);
    const all = await Promise.all([decisions.evaluate(name), decisions.evaluate(name), decisions.decide(name)]);
    expect(chain.calls()).toBe(1);
    expect(new Set(all).size).toBe(1);
  });

  it('answers from memory, then from the fleet, with no evaluation while the decision holds', async () => {
    const fleet = fakeFleet();
    const chain = fakeChain();
    fleet.decisions.set(name, fleet.stored(false));
    const decisions = service(fleet, chain);
    expect(decisions.cached(name)).toBeUndefined();
    expect(await decisions.decide(name)).toMatchObject({ allowed: false, policy: 'other-process' });
    expect(decisions.cached(name)).toMatchObject({ allowed: false });
    fleet.log.length = 0;
    expect(await decisions.decide(name)).toMatchObject({ allowed: false });
    expect(fleet.log).toEqual([]);
    expect(chain.calls()).toBe(0);
  });

  it('evaluates again once the decision has expired, in memory and in the fleet', async () => {
    const fleet = fakeFleet();
    const chain = fakeChain();
    fleet.decisions.set(name, fleet.stored(false, 1_000));
    const decisions = service(fleet, chain);
    await decisions.decide(name);
    fleet.clock.now += 1_000;
    expect(decisions.cached(name)).toBeUndefined();
    expect(await decisions.lookup(name)).toBeNull();
    expect(await decisions.decide(name)).toMatchObject({ allowed: true, policy: 'fake' });
    expect(chain.calls()).toBe(1);
  });

  it('waits for the process holding the lock and takes its decision, without evaluating', async () => {
    const fleet = fakeFleet();
    const chain = fakeChain();
    fleet.locks.set(name, T0 + 10_000);
    let reads = 0;
    // The other process stores its decision after our third read.
    fleet.setOnGet(() => {
      reads += 1;
      if (reads === 3) fleet.decisions.set(name, fleet.stored(false));
    });
    expect(await service(fleet, chain).evaluate(name)).toMatchObject({ allowed: false, policy: 'other-process' });
    expect(chain.calls()).toBe(0);
    // The lock is the other process's: not ours to release.
    expect(fleet.log).not.toContain('unlock');
    expect(fleet.locks.has(name)).toBe(true);
  });

  it('evaluates itself when the process holding the lock gives no answer within the lock time', async () => {
    const fleet = fakeFleet();
    const chain = fakeChain();
    fleet.locks.set(name, T0 + 10_000);
    // Each wait lets time pass: the lock time (evaluation timeout + 1 s) runs out after a few reads.
    fleet.setOnGet(() => (fleet.clock.now += 1_000));
    expect(await service(fleet, chain).evaluate(name)).toMatchObject({ allowed: true, policy: 'fake' });
    expect(chain.calls()).toBe(1);
    expect(fleet.log.filter((entry) => entry === 'get')).toHaveLength(2);
    // The lock it waited on is the other process's: it is left for its holder (or its TTL).
    expect(fleet.log).not.toContain('unlock');
    expect(fleet.locks.get(name)).toBe(T0 + 10_000);
  });

  it('takes the decision stored between its lookup and its lock, releasing the lock without evaluating', async () => {
    const fleet = fakeFleet();
    const chain = fakeChain();
    const decisions = service(fleet, chain);
    expect(await decisions.lookup(name)).toBeNull();
    // Another process finishes its evaluation now, and releases its lock.
    fleet.decisions.set(name, fleet.stored(false));
    expect(await decisions.evaluate(name)).toMatchObject({ allowed: false, policy: 'other-process' });
    expect(chain.calls()).toBe(0);
    expect(fleet.log.slice(-3)).toEqual(['lock', 'get', 'unlock']);
    expect(fleet.locks.size).toBe(0);
  });

  it('evaluates afresh when asked to, ignoring a decision the fleet made before it was asked (a renewal of a name that left)', async () => {
    const fleet = fakeFleet();
    const chain = fakeChain();
    const decisions = service(fleet, chain);
    // Another process decided 10 s ago; it holds for 50 s more.
    fleet.clock.now = T0 - 10_000;
    fleet.decisions.set(name, fleet.stored(false));
    fleet.clock.now = T0;
    expect(await decisions.decide(name)).toMatchObject({ allowed: false, policy: 'other-process' });
    expect(chain.calls()).toBe(0);
    expect(await decisions.evaluate(name)).toMatchObject({ allowed: true, policy: 'fake', at: T0 });
    expect(chain.calls()).toBe(1);
  });

  it('releases the lock and forgets the evaluation in flight when the policy fails, so the next call asks again', async () => {
    const fleet = fakeFleet();
    const chain = fakeChain();
    const decisions = service(fleet, chain);
    chain.fail(new Error('policy source down'));
    await expect(decisions.evaluate(name)).rejects.toThrow('policy source down');
    expect(fleet.locks.size).toBe(0);
    chain.fail(undefined);
    expect(await decisions.evaluate(name)).toMatchObject({ allowed: true });
    expect(chain.calls()).toBe(2);
  });

  it('makes a second process wait on the first one evaluating, then serves both from one evaluation', async () => {
    const fleet = fakeFleet();
    const chain = fakeChain();
    chain.hold();
    // Reads of the decision: the first process's one under its lock, the second's lookup, then
    // the second's polls while it waits on the lock. Released once it has polled twice.
    let reads = 0;
    let polledTwice = () => {};
    const secondWaiting = new Promise<void>((resolve) => (polledTwice = resolve));
    fleet.setOnGet(() => {
      reads += 1;
      if (reads === 4) polledTwice();
    });
    const first = service(fleet, chain).evaluate(name);
    await new Promise((resolve) => setImmediate(resolve));
    const second = service(fleet, chain).evaluate(name);
    await secondWaiting;
    chain.release();
    const [a, b] = await Promise.all([first, second]);
    expect(chain.calls()).toBe(1);
    expect(b).toEqual(a);
  });
});
