import { describe, expect, it } from 'vitest';
import { createLogger } from '@certfleet/observability';
import { guardProcess } from './crash-guard.js';

const logger = createLogger({ role: 'test', level: 'silent' });

describe('guardProcess', () => {
  it('turns the first uncaught exception or rejection into one drain, and lets go when asked', () => {
    let fatal = 0;
    const unguard = guardProcess({ logger, onFatal: () => (fatal += 1) });
    try {
      process.emit('uncaughtException', new Error('a bug in one request'));
      process.emit('unhandledRejection', new Error('and another'), Promise.resolve());
      expect(fatal).toBe(1);
    } finally {
      unguard();
    }
    const before = process.listenerCount('uncaughtException');
    guardProcess({ logger, onFatal: () => undefined })();
    expect(process.listenerCount('uncaughtException')).toBe(before);
  });
});
