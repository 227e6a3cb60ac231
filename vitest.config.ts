import { defineConfig } from 'vitest/config';

const include = ['core/test/**/*.test.ts', 'plugins/*/test/**/*.test.ts', 'ui/test/**/*.test.ts'];
// Repeats SIGKILL scenarios with a 30 s bound on recovery: it runs last, alone, so the rest of the
// suite's load does not decide its timing.
const crash = 'plugins/webhooks/test/crash.test.ts';

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    globalSetup: ['core/test/support/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Each boot holds an embedded Postgres for the queue (~250 MB); two at a time fits any CI box.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'suite', include, exclude: [crash], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'crash', include: [crash], sequence: { groupOrder: 1 } } },
    ],
  },
});
