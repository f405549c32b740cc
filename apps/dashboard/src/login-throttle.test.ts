import { describe, expect, it } from 'vitest';
import { createLoginThrottle } from './login-throttle.js';

function setUp(overrides: { maxClients?: number } = {}) {
  let time = 1_000_000;
  const throttle = createLoginThrottle({ maxFailures: 10, windowMs: 60_000, maxClients: overrides.maxClients ?? 100, now: () => time });
  const failTimes = (client: string, times: number) => {
    for (let i = 0; i < times; i += 1) throttle.failed(client);
  };
  return { throttle, failTimes, advance: (ms: number) => (time += ms) };
}

describe('login throttle', () => {
  it('lets a client try again after ten wrong tokens only once the minute has passed', () => {
    const { throttle, failTimes, advance } = setUp();
    failTimes('192.0.2.1', 9);
    expect(throttle.retryAfterMs('192.0.2.1')).toBe(0);
    throttle.failed('192.0.2.1');
    expect(throttle.retryAfterMs('192.0.2.1')).toBe(60_000);
    advance(45_000);
    expect(throttle.retryAfterMs('192.0.2.1')).toBe(15_000);
    advance(15_000);
    expect(throttle.retryAfterMs('192.0.2.1')).toBe(0);
  });

  it('starts a fresh count after the window, so failures spread over time are never refused', () => {
    const { throttle, failTimes, advance } = setUp();
    for (let minute = 0; minute < 5; minute += 1) {
      failTimes('192.0.2.1', 9);
      expect(throttle.retryAfterMs('192.0.2.1')).toBe(0);
      advance(60_000);
    }
  });

  it('never refuses a client for the failures of another', () => {
    const { throttle, failTimes } = setUp();
    failTimes('192.0.2.66', 50);
    expect(throttle.retryAfterMs('192.0.2.66')).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('192.0.2.1')).toBe(0);
  });

  it('remembers at most maxClients, forgetting the window that opened first', () => {
    const { throttle, failTimes, advance } = setUp({ maxClients: 2 });
    failTimes('192.0.2.1', 10);
    advance(1_000);
    failTimes('192.0.2.2', 10);
    advance(1_000);
    failTimes('192.0.2.3', 10);
    expect(throttle.retryAfterMs('192.0.2.1')).toBe(0);
    expect(throttle.retryAfterMs('192.0.2.2')).toBe(59_000);
    expect(throttle.retryAfterMs('192.0.2.3')).toBe(60_000);
  });
});
