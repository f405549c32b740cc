import { defineConfig } from 'vitest/config';

import RealTimeFirstSequencer from './test/support/sequencer.js';

// Two projects: fast unit tests beside the code, and end-to-end suites in test/ that start real
// processes (redis-server, Pebble, the roles). Two e2e files run at a time: many spend minutes
// waiting on real time (certificate lifetimes, budgets), and each file has its own Redis, CA,
// roles and ports reserved machine-wide (see freePort), so two never meet.
export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    sequence: { sequencer: RealTimeFirstSequencer },
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'bench/**/*.test.ts'],
          testTimeout: 20_000,
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
          maxWorkers: 2,
        },
      },
    ],
  },
});
