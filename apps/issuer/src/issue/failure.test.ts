import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { AcmeProblemError, AcmeValidationError } from '@certfleet/acme';
import type { NameState } from '@certfleet/store';
import { T0, fakeCa, fakeIssuer, silentLogger } from './fakes.js';
import {
  DEFAULT_RATE_LIMIT_PAUSE_MS,
  DEFAULT_UNAVAILABLE_PAUSE_MS,
  FIRST_COOL_DOWN_MS,
  MAX_COOL_DOWN_MS,
  coolDownMs,
  handleOrderFailure,
} from './failure.js';

const name = 'shop.example';
const problem = (type: string, status: number, retryAfterMs?: number) =>
  new AcmeProblemError(`urn:ietf:params:acme:error:${type}`, status, 'detail', 'https://first.ca.example/order', retryAfterMs);
const coolingState = (failures: number): NameState => ({
  state: 'cooling',
  attempts: failures,
  failures,
  lastError: 'refused',
  lastErrorAt: T0 - 1,
  coolUntil: T0 - 1,
  ca: 'first',
  updatedAt: T0 - 1,
});

function failAt(error: unknown, state: NameState | null = null) {
  const issuer = fakeIssuer();
  const { ca } = fakeCa('first');
  return { ...issuer, run: () => handleOrderFailure(error, { name, ca, state }, issuer.deps, silentLogger) };
}

describe('coolDownMs', () => {
  it('doubles with each failed validation in a row, up to a day', () => {
    expect([1, 2, 3].map(coolDownMs)).toEqual([FIRST_COOL_DOWN_MS, 2 * FIRST_COOL_DOWN_MS, 4 * FIRST_COOL_DOWN_MS]);
    expect(coolDownMs(40)).toBe(MAX_COOL_DOWN_MS);
  });
});

describe('handleOrderFailure', () => {
  it('pauses a CA that rate-limited for its Retry-After and lets the job try the next CA', async () => {
    const f = failAt(problem('rateLimited', 429, 20_000));
    expect(await f.run()).toBe(20_000);
    expect(f.store.caPauses.get('first')?.until).toBe(T0 + 20_000);
    expect(f.store.notes.map((n) => n.what)).toEqual(['error']);
  });

  it('pauses a CA that rate-limited without Retry-After, or is unreachable, for the defaults', async () => {
    expect(await failAt(problem('rateLimited', 429)).run()).toBe(DEFAULT_RATE_LIMIT_PAUSE_MS);
    const down = failAt(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect(await down.run()).toBe(DEFAULT_UNAVAILABLE_PAUSE_MS);
    expect(down.store.caPauses.get('first')?.until).toBe(T0 + DEFAULT_UNAVAILABLE_PAUSE_MS);
  });

  it('cools a name down after a failed validation, doubling with the failures in a row, and fails the job for good', async () => {
    const error = new AcmeValidationError(name, 'connection refused');
    const f = failAt(error, coolingState(2));
    const thrown = await f.run().catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(UnrecoverableError);
    expect((thrown as Error).cause).toBe(error);
    expect(f.store.nameStates.get(name)).toMatchObject({ state: 'cooling', coolUntil: T0 + 4 * FIRST_COOL_DOWN_MS });
    // The CA's failed-authorization budget was drawn on.
    expect(f.budgets.taken.flatMap((t) => t.claims.map((c) => c.key))).toEqual(['t:bucket:failed-authz:first:{shop.example}']);
  });

  it("cools a name down at least until the CA's failed-authorization budget refills", async () => {
    const f = failAt(new AcmeValidationError(name, 'connection refused'));
    f.budgets.refuse('failed-authz', 3_600_000);
    await expect(f.run()).rejects.toThrow(/cooling down for 3600 s/);
    expect(f.store.nameStates.get(name)?.coolUntil).toBe(T0 + 3_600_000);
  });

  it('marks a name the CA refuses failed until an operator acts, keeping the cause', async () => {
    const error = problem('rejectedIdentifier', 400);
    const f = failAt(error);
    const thrown = await f.run().catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(UnrecoverableError);
    expect((thrown as Error).cause).toBe(error);
    expect(f.store.nameStates.get(name)?.state).toBe('failed');
  });

  it('notes a transient error and rethrows it as it is, for BullMQ to retry with backoff', async () => {
    const error = problem('serverInternal', 500);
    const f = failAt(error);
    await expect(f.run()).rejects.toBe(error);
    expect(f.store.notes.map((n) => n.what)).toEqual(['error']);
    expect(f.store.caPauses.size).toBe(0);
  });
});

describe('handleOrderFailure records what the customer can act on', () => {
  it('records a failed validation with the CA problem type and the address the CA reached', async () => {
    const detail = '127.0.0.2: Fetching http://shop.example/.well-known/acme-challenge/t: Connection refused';
    const error = new AcmeValidationError(name, detail, {
      problems: [{ type: 'urn:ietf:params:acme:error:connection', detail, status: 400 }],
    });
    const f = failAt(error);
    await f.run().catch(() => undefined);
    expect(f.store.validationErrors).toEqual([
      { name, at: T0, type: 'urn:ietf:params:acme:error:connection', detail: expect.stringContaining('the CA reached 127.0.0.2') },
    ]);
  });

  it('records nothing for a CA that is rate-limiting (the customer can do nothing about it)', async () => {
    const f = failAt(problem('rateLimited', 429, 20_000));
    await f.run();
    expect(f.store.validationErrors).toEqual([]);
  });
});
