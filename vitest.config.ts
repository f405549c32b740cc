import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests beside the code, and end-to-end suites in test/ that start real
// processes (redis-server, Pebble, the roles). The e2e files run one at a time: each starts a
// CA and several roles, and the machine has two cores.
export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'bench/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
