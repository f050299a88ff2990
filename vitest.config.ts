import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Use-case tests live beside their features (src/app/**), the HTTP, contract and browser suites in test/.
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // After every test, the lead counts the store keeps equal a recount of the leads.
    setupFiles: ['test/lead-counts.setup.ts'],
    // One store per worker, shared by its test files (a fresh PGlite takes seconds to start; on PostgreSQL
    // each worker gets a database of its own); every test works in its own team.
    isolate: false,
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
