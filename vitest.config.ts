import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Two projects: fast, parallel unit + conformance tests; integration tests that start real node
// processes run one file at a time (they mine with worker threads on a 2-core machine).
export default defineConfig({
  test: {
    setupFiles: ['./src/runtime/shims.ts'],
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // test/helpers/*.test.ts: the test helpers' own tests (the independent checkers are
          // shown to reject what they must, the retry and wait helpers to fail on real errors).
          include: ['test/unit/**/*.test.ts', 'test/conformance/**/*.test.ts', 'test/helpers/**/*.test.ts'],
          // The files share their worker processes (no fresh module graph per file): 87 s instead
          // of 144 s for the suite on 2 cores with one worker. A test that leaves state behind (fake timers,
          // a changed working directory, an open handle) must clean up in its own finally/after.
          isolate: false,
          // Vitest's default is one worker fewer than the cores: 1 on a 2-core machine. The unit
          // files wait on I/O (LevelDB, child processes, worker threads) much of the time, so two
          // workers there take 56 s instead of 100 s.
          maxWorkers: Math.max(2, availableParallelism() - 1),
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // A private CA the workers trust, for nodes started with { tls: true } (HTTPS).
          globalSetup: ['./test/helpers/test-tls.ts'],
          testTimeout: 180_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        // The long reliability soak (npm run test:chaos; docs/reliability.md): not in npm test.
        extends: true,
        test: {
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          globalSetup: ['./test/helpers/test-tls.ts'],
          testTimeout: 3_600_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
