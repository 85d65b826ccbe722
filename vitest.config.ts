import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One real Redis for the whole run, found or started before any test file.
    globalSetup: ['test/setup/redis-global.ts'],
    pool: 'forks',
    // Two cores: multi-node tests spawn node processes of their own.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
