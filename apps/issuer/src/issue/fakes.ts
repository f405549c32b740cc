/**
 * In-memory stand-ins for what an issuance uses, for the unit tests of its steps: the store's
 * parts, the CA budgets, CAs and their accounts, the domain policy, a clock and a random source.
 * Each records what was done to it, so a test asserts on effects, not on calls.
 */
import type { IssuedCertificate, KeyType, RenewalWindow } from '@certfleet/acme';
import type { BudgetClaim, TakeAllResult } from '@certfleet/budget';
import type { CaConfig } from '@certfleet/config';
import { createLogger, type Logger } from '@certfleet/observability';
import type { NameState, Pause, RetirementKind, StoredCertificate, StoredDecision } from '@certfleet/store';
import { redisKeys } from '@certfleet/store';
import type { IssueJobDeps, IssueStore, IssuingCa, OrderingAccount } from './deps.js';

export const T0 = Date.UTC(2027, 0, 1);
export const DAY_MS = 86_400_000;
export const silentLogger: Logger = createLogger({ role: 'issuer', level: 'silent' });

function fakeClock(start = T0) {
  const clock = { now: start, read: () => clock.now, advance: (ms: number) => (clock.now += ms) };
  return clock;
}

function fakeStore() {
  const certificates = new Map<string, StoredCertificate>();
  const saved: { cert: StoredCertificate; renewAt: number }[] = [];
  const rescheduled = new Map<string, number>();
  const retired: { name: string; kind: RetirementKind; reason: string; at: number }[] = [];
  const nameStates = new Map<string, NameState>();
  const notes: { name: string; what: 'issuing' | 'active' | 'cooling' | 'failed' | 'error'; at: number; error?: string; ca?: string }[] =
    [];
  const caPauses = new Map<string, Pause>();
  let issuanceBlocked: Pause | undefined;
  const lastServed = new Map<string, number>();
  const ariPolls = new Map<string, number>();
  const validationErrors: { name: string; at: number; type: string; detail: string }[] = [];
  const holds: { name: string; budget: string; until: number; at: number }[] = [];
  const state = (name: string, change: Partial<NameState>, at: number) => {
    const before = nameStates.get(name);
    nameStates.set(name, {
      state: 'issuing',
      attempts: 0,
      failures: 0,
      lastError: undefined,
      lastErrorAt: undefined,
      coolUntil: undefined,
      ca: undefined,
      ...before,
      ...change,
      updatedAt: at,
    });
  };
  const store: IssueStore = {
    budgetKeys: redisKeys('t').buckets,
    certificates: {
      get: async (name) => certificates.get(name) ?? null,
      async save(cert, renewAt) {
        certificates.set(cert.name, { ...cert, renewAt });
        saved.push({ cert, renewAt });
      },
      async reschedule(name, renewAt) {
        rescheduled.set(name, renewAt);
      },
      async retire(name, kind, reason, at) {
        retired.push({ name, kind, reason, at });
      },
    },
    nameStates: {
      get: async (name) => nameStates.get(name) ?? null,
      async markIssuing(name, ca, at) {
        notes.push({ name, what: 'issuing', at, ca });
        state(name, { state: 'issuing', ca }, at);
      },
      async markActive(name, ca, at) {
        notes.push({ name, what: 'active', at, ca });
        state(name, { state: 'active', ca, failures: 0, coolUntil: undefined }, at);
      },
      async markCooling(name, error, coolUntil, at) {
        notes.push({ name, what: 'cooling', at, error });
        state(name, { state: 'cooling', coolUntil, lastError: error, failures: (nameStates.get(name)?.failures ?? 0) + 1 }, at);
      },
      async markFailed(name, error, at) {
        notes.push({ name, what: 'failed', at, error });
        state(name, { state: 'failed', lastError: error }, at);
      },
      async noteError(name, error, at) {
        notes.push({ name, what: 'error', at, error });
        state(name, { lastError: error, lastErrorAt: at }, at);
      },
    },
    pauses: {
      caPause: async (ca) => caPauses.get(ca) ?? null,
      async pauseCa(ca, pause) {
        caPauses.set(ca, pause);
      },
      async blockIssuance(pause) {
        issuanceBlocked = pause;
      },
    },
    served: { lastServed: async (name) => lastServed.get(name) ?? null },
    renewals: {
      async scheduleAriPoll(name, at) {
        ariPolls.set(name, at);
      },
    },
    issueRecords: {
      async addValidationError(name, error) {
        validationErrors.push({ name, ...error });
      },
      async hold(name, hold) {
        holds.push({ name, ...hold });
      },
    },
  };
  return {
    store,
    certificates,
    saved,
    rescheduled,
    retired,
    nameStates,
    notes,
    caPauses,
    lastServed,
    ariPolls,
    validationErrors,
    holds,
    issuanceBlocked: () => issuanceBlocked,
  };
}

/** Budgets that grant unless a refusal was set for a key containing some text. */
function fakeBudgets() {
  const taken: { claims: readonly BudgetClaim[]; count: number }[] = [];
  const refusals: { keyContains: string; retryAfterMs: number }[] = [];
  const budgets: IssueJobDeps['budgets'] = {
    async takeAll(claims, count = 1): Promise<TakeAllResult> {
      const refusal = refusals.find((r) => claims.some((c) => c.key.includes(r.keyContains)));
      if (refusal) {
        return { granted: false, retryAfterMs: refusal.retryAfterMs, refusedBy: claims.find((c) => c.key.includes(refusal.keyContains)) };
      }
      taken.push({ claims, count });
      return { granted: true, retryAfterMs: 0, refusedBy: undefined };
    },
  };
  return { budgets, taken, refuse: (keyContains: string, retryAfterMs: number) => refusals.push({ keyContains, retryAfterMs }) };
}

function caConfig(name: string, change: Partial<CaConfig> = {}): CaConfig {
  const spec = { capacity: 10, refillIntervalMs: 60_000 };
  return {
    name,
    directoryUrl: `https://${name}.ca.example/directory`,
    caBundlePem: undefined,
    email: undefined,
    eab: undefined,
    budgets: { orders: spec, registeredDomain: spec, nameSet: spec, failedAuthz: spec },
    visitorReserve: 0.1,
    renewalBudget: undefined,
    profile: undefined,
    ...change,
  };
}

/** A certificate as an account's `issue` returns it (its PEM is not parsed by the steps under test, except for an ARI id). */
export function issuedCertificate(name: string, keyType: KeyType, at: number, lifetimeMs = 90 * DAY_MS): IssuedCertificate {
  return {
    keyType,
    names: [name],
    chainPem: `chain of ${name} (${keyType})`,
    keyPem: `key of ${name} (${keyType})`,
    serial: `${keyType.toUpperCase()}-${at}`,
    notBefore: at,
    notAfter: at + lifetimeMs,
    issuer: 'Fake CA',
  };
}

export interface FakeAccountOptions {
  /** Thrown by every order instead of issuing. */
  fails?: unknown;
  supportsAri?: boolean;
  window?: RenewalWindow | null | Error;
  /** The clock the issued certificates start at. */
  clock?: () => number;
}

export function fakeAccount(options: FakeAccountOptions = {}) {
  const orders: { names: readonly string[]; keyType: KeyType; replaces: string | undefined; profile: string | undefined }[] = [];
  const account: OrderingAccount = {
    async issue(names, _responder, keyType = 'ecdsa', order = {}) {
      orders.push({ names, keyType, replaces: order.replaces, profile: order.profile });
      if (options.fails !== undefined) throw options.fails;
      return issuedCertificate(names[0] ?? '', keyType, options.clock?.() ?? T0);
    },
    supportsAri: async () => options.supportsAri ?? false,
    async renewalInfo() {
      if (options.window instanceof Error) throw options.window;
      return options.window ?? null;
    },
  };
  return { account, orders };
}

export function fakeCa(name: string, options: FakeAccountOptions & { config?: Partial<CaConfig> } = {}) {
  const { account, orders } = fakeAccount(options);
  const ca: IssuingCa = { config: caConfig(name, options.config), account: async () => account };
  return { ca, orders };
}

/** A domain policy that allows the names listed in `allowed`, and says which way it was asked. */
function fakeDecisions(clock: () => number) {
  const allowed = new Set<string>();
  const asked: { name: string; how: 'decide' | 'evaluate' }[] = [];
  const answer = (name: string): StoredDecision => ({
    allowed: allowed.has(name),
    policy: 'fake',
    reason: allowed.has(name) ? 'listed' : 'not listed',
    at: clock(),
    expiresAt: clock() + 60_000,
  });
  const decisions: IssueJobDeps['decisions'] = {
    async decide(name) {
      asked.push({ name, how: 'decide' });
      return answer(name);
    },
    async evaluate(name) {
      asked.push({ name, how: 'evaluate' });
      return answer(name);
    },
  };
  return { decisions, allowed, asked };
}

/** A stored certificate for `name`, issued at `issuedAt` for `lifetimeMs`. */
export function storedCertificate(name: string, issuedAt: number, change: Partial<StoredCertificate> = {}): StoredCertificate {
  return {
    name,
    names: [name],
    chainPem: 'chain',
    keyPem: 'key',
    serial: 'STORED',
    notBefore: issuedAt,
    notAfter: issuedAt + 90 * DAY_MS,
    issuer: 'Fake CA',
    issuedAt,
    ...change,
  };
}

/** Every dependency of an issuance, faked: CAs none until a test sets `deps.cas`; one key type (ECDSA); spread draws 0.5. */
export function fakeIssuer() {
  const clock = fakeClock();
  const store = fakeStore();
  const budgets = fakeBudgets();
  const decisions = fakeDecisions(clock.read);
  const retiredKinds: RetirementKind[] = [];
  const deps: IssueJobDeps = {
    store: store.store,
    budgets: budgets.budgets,
    cas: [],
    decisions: decisions.decisions,
    responder: { type: 'http-01', present: async () => undefined, remove: async () => undefined },
    keyTypes: ['ecdsa'],
    logger: silentLogger,
    clock: clock.read,
    random: () => 0.5,
    renewFraction: 1 / 3,
    idleAfterMs: 30 * DAY_MS,
    onRetired: (kind) => retiredKinds.push(kind),
  };
  return { deps, clock, store, budgets, decisions, retiredKinds };
}
