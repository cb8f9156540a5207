import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // What a browser test waits for (an image drawn by the server, a list that refreshes) can take
    // seconds on a loaded 2-core CI machine; a poll that gives up after the default second fails
    // on timing, not on behaviour.
    expect: { poll: { timeout: 15_000 } },
    reporters: ['default'],
  },
});
