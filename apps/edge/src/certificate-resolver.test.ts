import { describe, expect, it } from 'vitest';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { BudgetClaim, TokenBuckets } from '@certfleet/budget';
import { createLogger, createRegistry } from '@certfleet/observability';
import { createDecisionService, createPolicyChain } from '@certfleet/policy';
import type { IssuanceOutcome } from '@certfleet/queue';
import {
  budgetKeys,
  type CertificateStore,
  type ChallengeStore,
  type DecisionStore,
  type NameState,
  type NameStateStore,
  type Pause,
  type PauseStore,
  type StoredDecision,
} from '@certfleet/store';
import type { SecureContextCache } from '@certfleet/tls';
import { createNewNameAdmission } from './admission.js';
import { createAlpnChallenges } from './alpn-challenges.js';
import { createCertificateResolver } from './certificate-resolver.js';
import { createEdgeMetrics } from './metrics.js';

/**
 * Stands in for the edge's Redis connection: counts commands, and answers every command sent
 * in one turn of the event loop together, as one round trip.
 */
class FakeRedis {
  readonly commands: string[] = [];
  roundTrips = 0;
  private batch: (() => void)[] = [];

  send<T>(command: string, answer: () => T): Promise<T> {
    this.commands.push(command);
    return new Promise((resolve) => {
      if (this.batch.length === 0) {
        setImmediate(() => {
          this.roundTrips += 1;
          const answers = this.batch;
          this.batch = [];
          for (const reply of answers) reply();
        });
      }
      this.batch.push(() => resolve(answer()));
    });
  }
}

interface Options {
  perIp?: number;
  fleet?: number;
  refusedNameTtlMs?: number;
  /** How long the fake policy's answers hold. */
  decisionTtlMs?: number;
  /** The name state every name has in Redis (cooling down, failed). */
  nameState?: NameState | null;
  /** Set when no CA can take an order now. */
  issuanceBlocked?: Pause | null;
  /** How every wait for issuance ends (the certificate is stored only when 'issued'). */
  outcome?: IssuanceOutcome;
  maxPendingIssues?: number;
  maxWaitingHandshakes?: number;
}

function edge(options: Options = {}) {
  let now = 1_700_000_000_000;
  const clock = () => now;
  const redis = new FakeRedis();
  const stored = new Set<string>();
  /** Names in the edge's local store. */
  const local = new Set<string>();
  const allowed = new Set<string>();
  const contexts = new Map<string, { context: SecureContext; rsaContext: undefined; serial: string; notAfter: number }>();
  const decisionsInRedis = new Map<string, StoredDecision>();
  const bucketTokens = new Map<string, number>();
  const bucketKeys = budgetKeys('t');

  const context = (name: string) => ({
    context: { name } as unknown as SecureContext,
    rsaContext: undefined,
    serial: '01',
    notAfter: Number.POSITIVE_INFINITY,
  });
  const cache = {
    peek: (name: string) => contexts.get(name),
    set(name: string) {
      contexts.set(name, context(name));
      return contexts.get(name);
    },
    async get(name: string, load: () => Promise<unknown>) {
      const hit = contexts.get(name);
      if (hit) return hit;
      if (!(await load())) return null;
      contexts.set(name, context(name));
      return contexts.get(name);
    },
  } as unknown as SecureContextCache;
  const certificates = {
    get: (name: string) =>
      redis.send('hgetall cert', () =>
        stored.has(name) ? { chainPem: 'chain', keyPem: 'key', serial: '01', notAfter: now + 86_400_000 } : null,
      ),
  } as unknown as CertificateStore;
  const challenges = { getAlpn: () => redis.send('get alpn', () => null) } as unknown as ChallengeStore;
  const decisionStore: DecisionStore = {
    get: (name) => redis.send('get decision', () => decisionsInRedis.get(name) ?? null),
    put: (name, decision) => redis.send('set decision', () => void decisionsInRedis.set(name, decision)),
    lock: () => redis.send('set lock', () => true),
    unlock: () => redis.send('del lock', () => undefined),
    remembered: () => redis.send('hget memory', () => null),
    remember: () => redis.send('hset memory', () => undefined),
    forget: (names) =>
      redis.send('unlink decisions', () => {
        for (const n of names) decisionsInRedis.delete(n);
      }),
  };
  const decisionTtlMs = options.decisionTtlMs ?? 5_000;
  const chain = createPolicyChain({
    policies: [
      {
        name: 'fake',
        maxStaleMs: 0,
        evaluate: (name) =>
          redis.send('smismember allowlist', () =>
            allowed.has(name)
              ? { verdict: 'allow', reason: 'listed', ttlMs: decisionTtlMs }
              : { verdict: 'deny', reason: 'not listed', ttlMs: decisionTtlMs },
          ),
      },
    ],
    unavailableTtlMs: 1_000,
    defaultDenyTtlMs: decisionTtlMs,
    clock,
  });
  // The fleet's buckets, without refill: each claim's capacity is all it ever grants.
  const buckets: TokenBuckets = {
    take: () => Promise.reject(new Error('the edge takes its new-name buckets all-or-nothing')),
    takeAll: (claims: readonly BudgetClaim[]) =>
      redis.send('eval take-all', () => {
        const refusedBy = claims.find((c) => (bucketTokens.get(c.key) ?? c.spec.capacity) < 1);
        if (!refusedBy) for (const c of claims) bucketTokens.set(c.key, (bucketTokens.get(c.key) ?? c.spec.capacity) - 1);
        return { granted: !refusedBy, retryAfterMs: refusedBy ? 1_000 : 0, refusedBy };
      }),
  };
  const registry = createRegistry('edge');
  const metrics = createEdgeMetrics(registry);
  const jobs: string[] = [];
  /** How long each request for issuance said it would wait (0: enqueue only). */
  const waits: number[] = [];
  const sni = createCertificateResolver({
    cache,
    local: {
      get: (name) => (local.has(name) ? { chainPem: 'chain', keyPem: 'key', serial: '02', notAfter: now + 86_400_000 } : undefined),
    },
    certificates,
    nameStates: { get: () => redis.send('hgetall state', () => options.nameState ?? null) } as unknown as NameStateStore,
    pauses: { issuanceBlocked: () => redis.send('get pause', () => options.issuanceBlocked ?? null) } as unknown as PauseStore,
    alpn: createAlpnChallenges({ challenges, logger: createLogger({ role: 'edge', level: 'silent' }) }),
    decisions: createDecisionService({ chain, store: decisionStore, localMax: 1_000, evaluationTimeoutMs: 1_000, clock }),
    admitNewName: createNewNameAdmission({
      buckets,
      keys: bucketKeys,
      perIp: { capacity: options.perIp ?? 5, refillIntervalMs: 60_000 },
      fleet: { capacity: options.fleet ?? 1_000, refillIntervalMs: 60_000 },
      clock,
    }),
    refusedNameTtlMs: options.refusedNameTtlMs ?? 3_000,
    issueAndWait: (name, timeoutMs) =>
      redis.send('add job', () => {
        jobs.push(name);
        waits.push(timeoutMs);
        const outcome = timeoutMs === 0 ? 'enqueued' : (options.outcome ?? 'issued');
        if (outcome === 'issued') stored.add(name);
        return outcome;
      }),
    issueWaitMs: 1_000,
    maxPendingIssues: options.maxPendingIssues ?? 100,
    maxWaitingHandshakes: options.maxWaitingHandshakes ?? 10_000,
    hostnameOptions: {},
    metrics,
    logger: createLogger({ role: 'edge', level: 'silent' }),
    clock,
  });

  /** One handshake from `address`: the name whose certificate was served, or 'fallback'. */
  const handshake = (name: string, address = '203.0.113.7') =>
    new Promise<string>((resolve, reject) => {
      const socket = { remoteAddress: address, setKeyCert: () => undefined } as unknown as TLSSocket;
      sni.call(socket, name, (error, context) => {
        if (error) reject(error);
        else resolve(context ? (context as unknown as { name: string }).name : 'fallback');
      });
    });
  /** Redis commands and round trips `run` cost. */
  const cost = async (run: () => Promise<unknown>) => {
    const [commands, roundTrips] = [redis.commands.length, redis.roundTrips];
    await run();
    return { commands: redis.commands.length - commands, roundTrips: redis.roundTrips - roundTrips };
  };
  const counted = async (counter: 'limited' | 'refusedNameHits' | 'certificates', label: string) =>
    (await metrics[counter].get()).values.find((v) => Object.values(v.labels).includes(label))?.value ?? 0;
  let serial = 0;
  const randomName = () => {
    serial += 1;
    return `r${serial}.flood.example`;
  };
  /** Spends `client`'s allowance in the fleet's Redis bucket (as other edges would). */
  const spendInRedis = (client: string) => bucketTokens.set(bucketKeys.newNamesPerClient(client), 0);
  return { handshake, cost, counted, randomName, spendInRedis, stored, local, allowed, jobs, waits, advance: (ms: number) => (now += ms) };
}

describe('the SNI callback in front of hostile traffic', () => {
  it('refuses a flood of random names from one client from memory once its allowance is used: no Redis command', async () => {
    const e = edge({ perIp: 5 });
    const allowance = await e.cost(async () => {
      for (let i = 0; i < 5; i += 1) expect(await e.handshake(e.randomName())).toBe('fallback');
    });
    expect(allowance.commands).toBeGreaterThan(0);
    const flood = await e.cost(() => Promise.all(Array.from({ length: 300 }, () => e.handshake(e.randomName()))));
    expect(flood).toEqual({ commands: 0, roundTrips: 0 });
    expect(await e.counted('limited', 'new_names_per_ip_local')).toBe(300);
  });

  it('counts every address of one IPv6 /64 as one client, and another /64 as another', async () => {
    const e = edge({ perIp: 3 });
    for (let i = 1; i <= 3; i += 1) await e.handshake(e.randomName(), `2001:db8:1:2::${i}`);
    const sameNet = await e.cost(() =>
      Promise.all(Array.from({ length: 50 }, (_, i) => e.handshake(e.randomName(), `2001:db8:1:2:${i.toString(16)}::9`))),
    );
    expect(sameNet.commands).toBe(0);
    const otherNet = await e.cost(() => e.handshake(e.randomName(), '2001:db8:1:3::1'));
    expect(otherNet.commands).toBeGreaterThan(0);
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', async () => {
    const e = edge({ perIp: 1 });
    await e.handshake(e.randomName(), '198.51.100.4');
    expect(await e.cost(() => e.handshake(e.randomName(), '::ffff:198.51.100.4'))).toEqual({ commands: 0, roundTrips: 0 });
  });

  it('decides a name the policy denied a while ago in one round trip: the read of its certificate', async () => {
    const e = edge({ perIp: 5 });
    const name = e.randomName();
    await e.handshake(name, '192.0.2.1');
    e.advance(3_001); // past the short memory of refused names, within the decision's 5 s
    // A restarted process would have to read the decision from Redis; this one holds it.
    expect(await e.cost(() => e.handshake(name, '192.0.2.2'))).toEqual({ commands: 2, roundTrips: 1 });
  });

  it('looks a new name within the allowance up in one round trip and takes its Redis buckets in one more', async () => {
    const e = edge();
    // Read (certificate, challenge, decision), buckets, then the fleet-wide evaluation: lock,
    // re-read, policy, store, unlock.
    expect(await e.cost(() => e.handshake(e.randomName()))).toEqual({ commands: 9, roundTrips: 7 });
  });

  it('serves stored certificates to a client within its allowance without spending it', async () => {
    const e = edge({ perIp: 2 });
    const names = Array.from({ length: 20 }, (_, i) => `shop${i}.example`);
    for (const name of names) e.stored.add(name);
    for (const name of names) {
      const read = await e.cost(async () => expect(await e.handshake(name)).toBe(name));
      expect(read.roundTrips).toBe(1);
    }
    // The allowance is intact: two new names are still looked up.
    for (let i = 0; i < 2; i += 1) expect((await e.cost(() => e.handshake(e.randomName()))).commands).toBeGreaterThan(0);
    expect((await e.cost(() => e.handshake(e.randomName()))).commands).toBe(0);
  });

  it('serves stored certificates to many concurrent handshakes from one client (a proxy in front of many) beyond its allowance', async () => {
    const e = edge({ perIp: 2 });
    const names = Array.from({ length: 100 }, (_, i) => `shop${i}.example`);
    for (const name of names) e.stored.add(name);
    expect(await Promise.all(names.map((name) => e.handshake(name)))).toEqual(names);
  });

  it('reads each name of a burst that arrived before the allowance ran out, and evaluates only the allowance', async () => {
    const e = edge({ perIp: 5 });
    const flood = await e.cost(() => Promise.all(Array.from({ length: 50 }, () => e.handshake(e.randomName()))));
    // All 50 passed the check while five tokens were left and were read together; five were evaluated.
    expect(flood.commands).toBe(50 * 3 + 5 * 6);
    expect(await e.counted('limited', 'new_names_per_ip_local')).toBe(45);
    expect(await e.cost(() => e.handshake(e.randomName()))).toEqual({ commands: 0, roundTrips: 0 });
  });

  it('serves a certificate in memory with no Redis command, whatever the client has spent', async () => {
    const e = edge({ perIp: 1 });
    e.stored.add('shop.example');
    await e.handshake('shop.example');
    await e.handshake(e.randomName());
    expect(await e.cost(async () => expect(await e.handshake('shop.example')).toBe('shop.example'))).toEqual({
      commands: 0,
      roundTrips: 0,
    });
  });

  it("serves a name in the edge's local store with no Redis command, whatever the client has spent", async () => {
    const e = edge({ perIp: 1 });
    e.local.add('held.example');
    await e.handshake(e.randomName());
    expect(await e.cost(async () => expect(await e.handshake('held.example')).toBe('held.example'))).toEqual({
      commands: 0,
      roundTrips: 0,
    });
    expect(await e.counted('certificates', 'local')).toBe(1);
    // Kept in memory from then on.
    await e.handshake('held.example');
    expect(await e.counted('certificates', 'memory')).toBe(1);
  });

  it('refuses a name the policy just denied from memory, to every client, for the short ttl only', async () => {
    const e = edge({ refusedNameTtlMs: 3_000, decisionTtlMs: 60_000 });
    await e.handshake('scan.example', '192.0.2.1');
    const repeated = await e.cost(() =>
      Promise.all(Array.from({ length: 100 }, (_, i) => e.handshake('scan.example', `192.0.2.${i + 2}`))),
    );
    expect(repeated).toEqual({ commands: 0, roundTrips: 0 });
    expect(await e.counted('refusedNameHits', 'denied')).toBe(100);
    e.advance(3_000);
    expect((await e.cost(() => e.handshake('scan.example', '192.0.2.1'))).commands).toBeGreaterThan(0);
  });

  it('serves a name allowed after it was denied once the decision lapses, never later than the short ttl', async () => {
    const e = edge({ refusedNameTtlMs: 3_000, decisionTtlMs: 1_000 });
    expect(await e.handshake('new-customer.example')).toBe('fallback');
    e.allowed.add('new-customer.example');
    e.advance(1_000);
    // The decision held for 1 s, so the memory of its refusal did too (not the 3 s ttl).
    expect(await e.handshake('new-customer.example', '192.0.2.9')).toBe('new-customer.example');
    expect(e.jobs).toEqual(['new-customer.example']);
  });

  it('stops a flood spread over many clients at the process bucket after one read, without a Redis bucket', async () => {
    const e = edge({ perIp: 5, fleet: 10 });
    for (let i = 0; i < 10; i += 1) await e.handshake(e.randomName(), `198.51.100.${i}`);
    const spread = await e.cost(() => Promise.all(Array.from({ length: 50 }, (_, i) => e.handshake(e.randomName(), `203.0.113.${i}`))));
    expect(spread.roundTrips).toBe(1);
    expect(spread.commands).toBe(50 * 3);
    expect(await e.counted('limited', 'new_names_process')).toBe(50);
  });

  it('does not refuse a name to every client because one client is over its allowance', async () => {
    const e = edge({ perIp: 1 });
    e.allowed.add('wanted.example');
    // Over its allowance in this process: refused from memory.
    await e.handshake(e.randomName(), '192.0.2.1');
    expect(await e.handshake('wanted.example', '192.0.2.1')).toBe('fallback');
    // Over its allowance in Redis (spent on other edges), not here: refused after the bucket.
    e.spendInRedis('192.0.2.3');
    expect(await e.handshake('wanted.example', '192.0.2.3')).toBe('fallback');
    expect(await e.counted('limited', 'new_names_per_ip')).toBe(1);
    // Neither refusal is the name's: the next client gets it issued.
    expect(await e.handshake('wanted.example', '192.0.2.2')).toBe('wanted.example');
  });
});

describe('the SNI callback for an allowed name without a certificate', () => {
  const cooling = (coolUntil: number): NameState => ({
    state: 'cooling',
    attempts: 1,
    failures: 1,
    lastError: 'validation failed',
    lastErrorAt: undefined,
    coolUntil,
    ca: 'default',
    updatedAt: 0,
  });

  it('serves the certificate issued within the wait, and counts it as issued', async () => {
    const e = edge();
    e.allowed.add('new.example');
    expect(await e.handshake('new.example')).toBe('new.example');
    expect(e.waits).toEqual([1_000]);
    expect(await e.counted('certificates', 'issued')).toBe(1);
  });

  it.each(['timeout', 'delayed', 'failed'] as const)('serves the fallback when the wait ends %s', async (outcome) => {
    const e = edge({ outcome });
    e.allowed.add('new.example');
    expect(await e.handshake('new.example')).toBe('fallback');
    expect(e.jobs).toEqual(['new.example']);
    expect(await e.counted('certificates', 'fallback')).toBe(1);
  });

  it('serves the fallback without a job to a name cooling down after a failed validation', async () => {
    const e = edge({ nameState: cooling(Number.POSITIVE_INFINITY) });
    e.allowed.add('new.example');
    expect(await e.handshake('new.example')).toBe('fallback');
    expect(e.jobs).toEqual([]);
  });

  it('serves the fallback without a job to a name that failed for good', async () => {
    const e = edge({ nameState: { ...cooling(0), state: 'failed' } });
    e.allowed.add('new.example');
    expect(await e.handshake('new.example')).toBe('fallback');
    expect(e.jobs).toEqual([]);
  });

  it('asks for issuance for a name whose cool-down is over', async () => {
    const e = edge({ nameState: cooling(0) });
    e.allowed.add('new.example');
    expect(await e.handshake('new.example')).toBe('new.example');
  });

  it('enqueues without waiting and serves the fallback at once while no CA can take an order', async () => {
    const e = edge({ issuanceBlocked: { until: Number.POSITIVE_INFINITY, reason: 'no CA can take an order now' } });
    e.allowed.add('new.example');
    expect(await e.handshake('new.example')).toBe('fallback');
    expect(e.jobs).toEqual(['new.example']);
    expect(e.waits).toEqual([0]);
  });

  it('waits for issuance again once the block on issuance has passed', async () => {
    const e = edge({ issuanceBlocked: { until: 0, reason: 'no CA can take an order now' } });
    e.allowed.add('new.example');
    expect(await e.handshake('new.example')).toBe('new.example');
    expect(e.waits).toEqual([1_000]);
  });

  it('serves the fallback at once, with no Redis command, when too many handshakes are already waiting', async () => {
    const e = edge({ maxWaitingHandshakes: 1 });
    e.allowed.add('first.example');
    e.allowed.add('second.example');
    const first = e.handshake('first.example');
    expect(await e.handshake('second.example')).toBe('fallback');
    expect(await first).toBe('first.example');
    expect(await e.counted('limited', 'waiting_handshakes')).toBe(1);
    expect(e.jobs).toEqual(['first.example']);
  });

  it('serves the fallback without a job when too many issuances are already pending', async () => {
    const e = edge({ maxPendingIssues: 1 });
    e.allowed.add('first.example');
    e.allowed.add('second.example');
    const [first, second] = await Promise.all([e.handshake('first.example', '192.0.2.1'), e.handshake('second.example', '192.0.2.2')]);
    expect([first, second]).toEqual(['first.example', 'fallback']);
    expect(await e.counted('limited', 'pending_issues')).toBe(1);
    expect(e.jobs).toEqual(['first.example']);
  });
});
