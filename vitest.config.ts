import { defineConfig } from 'vitest/config';

// Two projects: fast pure unit tests, and integration tests that talk to the real
// Kafka, schema registry, Redis and Prometheus started by `scripts/stack.sh up`.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // One file at a time: the stack shares two cores with the tests.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
