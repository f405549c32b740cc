import { describe, expect, it } from 'vitest';
import { createLogger } from '@certfleet/observability';
import { createServedNames } from './served-names.js';

const logger = createLogger({ level: 'silent', role: 'edge' });

describe('createServedNames', () => {
  it('writes each name at most once per interval, in one batch per flush', async () => {
    let now = 0;
    const batches: (readonly (readonly [string, number])[])[] = [];
    const served = createServedNames({
      store: { record: async (b) => void batches.push(b), lastServed: async () => null },
      intervalMs: 60_000,
      flushMs: 1e9,
      logger,
      clock: () => now,
    });
    for (let i = 0; i < 1000; i += 1) served.note('a.example');
    served.note('b.example');
    await served.flush();
    expect(batches).toEqual([
      [
        ['a.example', 0],
        ['b.example', 0],
      ],
    ]);
    now = 30_000;
    served.note('a.example');
    await served.flush();
    expect(batches).toHaveLength(1);
    now = 60_000;
    served.note('a.example');
    await served.flush();
    expect(batches[1]).toEqual([['a.example', 60_000]]);
    await served.close();
  });

  it('never throws when Redis is down: the sample is dropped and noting goes on', async () => {
    let fail = true;
    const written: string[] = [];
    const served = createServedNames({
      store: {
        record: async (batch) => {
          if (fail) throw new Error('Connection is closed.');
          written.push(...batch.map(([name]) => name));
        },
        lastServed: async () => null,
      },
      intervalMs: 1,
      flushMs: 1e9,
      logger,
      clock: (() => {
        let t = 0;
        return () => (t += 10);
      })(),
    });
    expect(() => served.note('a.example')).not.toThrow();
    await expect(served.flush()).resolves.toBeUndefined();
    fail = false;
    served.note('a.example');
    await served.flush();
    expect(written).toEqual(['a.example']);
    await served.close();
  });
});
