import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isFailoverError, retryAcrossFailover } from './failover-retry.js';

const closed = () => new Error('Connection is closed.');
const reply = (text: string) => new (ReplyError as new (message: string) => Error)(text);

describe('isFailoverError', () => {
  it('knows what a command meets while its server fails over', () => {
    expect(isFailoverError(closed())).toBe(true);
    expect(isFailoverError(reply("READONLY You can't write against a read only replica."))).toBe(true);
    expect(isFailoverError(reply('LOADING Redis is loading the dataset in memory'))).toBe(true);
    expect(isFailoverError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
  });
  it('leaves every other error alone', () => {
    expect(isFailoverError(reply('NOPERM this user has no permissions to run the set command'))).toBe(false);
    expect(isFailoverError(reply('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(false);
    expect(isFailoverError(new TypeError('Connection is closed.'))).toBe(false);
    expect(isFailoverError(new Error('the keyring has no key'))).toBe(false);
    expect(isFailoverError(Object.assign(new Error('nope'), { code: 'ERR_OSSL_BAD_DECRYPT' }))).toBe(false);
    expect(isFailoverError('Connection is closed.')).toBe(false);
  });
});

describe('retryAcrossFailover', () => {
  const fakeTime = () => {
    let now = 0;
    const slept: number[] = [];
    return {
      slept,
      clock: () => now,
      sleep: async (ms: number) => {
        slept.push(ms);
        now += ms;
      },
    };
  };

  it('runs the write again until the failover is over, backing off', async () => {
    const time = fakeTime();
    const failures = [closed(), closed(), reply('READONLY no'), closed()];
    let calls = 0;
    const result = await retryAcrossFailover(
      async () => {
        calls += 1;
        const failure = failures.shift();
        if (failure) throw failure;
        return 'saved';
      },
      { deadlineMs: 10_000, clock: time.clock, sleep: time.sleep },
    );
    expect(result).toBe('saved');
    expect(calls).toBe(5);
    expect(time.slept).toEqual([100, 200, 400, 800]);
  });

  it('rethrows any other error at once', async () => {
    const time = fakeTime();
    const refused = reply('NOPERM no');
    let calls = 0;
    await expect(
      retryAcrossFailover(
        async () => {
          calls += 1;
          throw refused;
        },
        { deadlineMs: 10_000, clock: time.clock, sleep: time.sleep },
      ),
    ).rejects.toBe(refused);
    expect(calls).toBe(1);
  });

  it('gives up with the last error once the deadline would pass', async () => {
    const time = fakeTime();
    const retries: number[] = [];
    let calls = 0;
    await expect(
      retryAcrossFailover(
        async () => {
          calls += 1;
          throw closed();
        },
        { deadlineMs: 3_000, clock: time.clock, sleep: time.sleep, onRetry: (_e, attempt) => retries.push(attempt) },
      ),
    ).rejects.toThrow('Connection is closed.');
    // 100 + 200 + 400 + 800 + 1000 = 2500 slept; the next 1000 would pass 3000.
    expect(time.slept).toEqual([100, 200, 400, 800, 1000]);
    expect(calls).toBe(6);
    expect(retries).toEqual([1, 2, 3, 4, 5]);
  });
});
