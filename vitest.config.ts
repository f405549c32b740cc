import { defineConfig } from 'vitest/config';

import RealTimeFirstSequencer from './test/support/sequencer.js';

// Two projects: fast unit tests beside the code, and end-to-end suites in test/ that start real
// processes (redis-server, Pebble, the roles). Three e2e files run at a time on the 2-core
// machine: most spend their time waiting on real time (certificate lifetimes, budgets), and each
// file has its own Redis, CA, roles and ports reserved machine-wide (see freePort), so none meet.
// (Measured here: 2 workers 6m47s for all of npm test, 3 and 4 about the same once CPU-bound.)
export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    sequence: { sequencer: RealTimeFirstSequencer },
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'bench/**/*.test.ts', 'test/*.test.ts'],
          testTimeout: 20_000,
          // One module graph per worker, not per file: a fresh one for each of ~90 files cost
          // 58 s of the unit run's 60 (their tests take 12 s); none keeps global state.
          isolate: false,
        },
      },
      {
        test: {
          name: 'e2e',
          // Projects with different worker counts run one group after the other: unit first.
          sequence: { groupOrder: 1 },
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: true,
          maxWorkers: 3,
        },
      },
    ],
  },
});
