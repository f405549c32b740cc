import { describe, expect, it } from 'vitest';
import { webhookJobId } from './catalog.js';
import { webhookAttempts } from './webhook-queue.js';

/** What BullMQ's exponential backoff waits in all before the last attempt: b + 2b + ... */
const totalWaitMs = (backoffMs: number, attempts: number) => backoffMs * (2 ** (attempts - 1) - 1);

describe('webhook delivery retries', () => {
  it('retries for about 24 h by default: 13 retries of 10 s doubling, 22.7 h in all', () => {
    const attempts = webhookAttempts({ backoffMs: 10_000, retryForMs: 86_400_000 });
    expect(attempts).toBe(14);
    expect(totalWaitMs(10_000, attempts) / 3_600_000).toBeCloseTo(22.75, 1);
    expect(totalWaitMs(10_000, attempts + 1)).toBeGreaterThan(86_400_000);
  });

  it('fits the retries in a short window for tests, and always retries at least once', () => {
    expect(webhookAttempts({ backoffMs: 200, retryForMs: 2_000 })).toBe(4);
    expect(webhookAttempts({ backoffMs: 60_000, retryForMs: 1_000 })).toBe(2);
  });

  it('names a delivery job by event and receiver, with no colon (BullMQ refuses them)', () => {
    expect(webhookJobId('evt_00112233445566778899aabbccddeeff', '0123456789abcdef')).toBe(
      'evt_00112233445566778899aabbccddeeff-0123456789abcdef',
    );
  });
});
