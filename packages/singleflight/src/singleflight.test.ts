import { describe, expect, it } from 'vitest';
import { createSingleflight } from './singleflight.js';

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('createSingleflight', () => {
  it('runs concurrent calls for one key once and gives every caller the result', async () => {
    const flights = createSingleflight<string, number>();
    const answer = deferred<number>();
    let calls = 0;
    const work = () => {
      calls += 1;
      return answer.promise;
    };
    const callers = [flights.run('a', work), flights.run('a', work), flights.run('a', work)];
    expect(calls).toBe(1);
    expect(flights.size).toBe(1);
    answer.resolve(7);
    expect(await Promise.all(callers)).toEqual([7, 7, 7]);
    expect(flights.size).toBe(0);
  });

  it('keeps keys apart', async () => {
    const flights = createSingleflight<string, string>();
    const [a, b] = await Promise.all([flights.run('a', async () => 'A'), flights.run('b', async () => 'B')]);
    expect([a, b]).toEqual(['A', 'B']);
  });

  it('caches nothing: a call after one settled runs again', async () => {
    const flights = createSingleflight<string, number>();
    let calls = 0;
    await flights.run('a', async () => ++calls);
    expect(await flights.run('a', async () => ++calls)).toBe(2);
  });

  it('gives every caller the rejection, and runs again after a failure', async () => {
    const flights = createSingleflight<string, number>();
    const answer = deferred<number>();
    const callers = [flights.run('a', () => answer.promise), flights.run('a', () => answer.promise)];
    answer.reject(new Error('down'));
    for (const caller of callers) await expect(caller).rejects.toThrow('down');
    expect(await flights.run('a', async () => 1)).toBe(1);
  });

  it('turns a synchronous throw into a rejection and forgets the call', async () => {
    const flights = createSingleflight<string, number>();
    await expect(
      flights.run('a', () => {
        throw new Error('bug');
      }),
    ).rejects.toThrow('bug');
    expect(flights.size).toBe(0);
  });

  it('joins a call in flight without starting one', async () => {
    const flights = createSingleflight<string, number>();
    expect(flights.pending('a')).toBeUndefined();
    const answer = deferred<number>();
    const first = flights.run('a', () => answer.promise);
    expect(flights.pending('a')).toBe(first);
    answer.resolve(3);
    expect(await flights.pending('a')).toBe(3);
    await first;
    expect(flights.pending('a')).toBeUndefined();
  });

  it('after forget: earlier callers get the old result, the next caller a new call, the old call knows', async () => {
    const flights = createSingleflight<string, string>();
    const old = deferred<string>();
    const seen: boolean[] = [];
    const first = flights.run('a', async (flight) => {
      const value = await old.promise;
      seen.push(flight.forgotten);
      return value;
    });
    expect(flights.forget('a')).toBe(true);
    expect(flights.forget('a')).toBe(false);
    const fresh = deferred<string>();
    const second = flights.run('a', () => fresh.promise);
    expect(second).not.toBe(first);
    old.resolve('old');
    expect(await first).toBe('old');
    expect(seen).toEqual([true]);
    // The forgotten call settling did not drop the call that replaced it.
    expect(flights.pending('a')).toBe(second);
    fresh.resolve('new');
    expect(await second).toBe('new');
    expect(flights.size).toBe(0);
  });

  it('forgets every call in flight at once (a subscription that lost messages)', async () => {
    const flights = createSingleflight<string, string>();
    const seen: boolean[] = [];
    const gates = [deferred<string>(), deferred<string>()];
    const calls = ['a', 'b'].map((key, i) =>
      flights.run(key, async (flight) => {
        const value = await gates[i]!.promise;
        seen.push(flight.forgotten);
        return value;
      }),
    );
    flights.forgetAll();
    expect(flights.size).toBe(0);
    expect(flights.pending('a')).toBeUndefined();
    gates[0]!.resolve('x');
    gates[1]!.resolve('y');
    expect(await Promise.all(calls)).toEqual(['x', 'y']);
    expect(seen).toEqual([true, true]);
  });
});
