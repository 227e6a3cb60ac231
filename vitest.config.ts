import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['core/test/**/*.test.ts', 'plugins/*/test/**/*.test.ts', 'ui/test/**/*.test.ts'],
    globalSetup: ['core/test/support/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Each boot holds an embedded Postgres for the queue (~250 MB); two at a time fits any CI box.
    maxWorkers: 2,
  },
});
