import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds the CLI from the current source, seals the environment, and owns the temporary folders.
    globalSetup: ['test/setup/global.ts'],
    // Forks, not threads: several tests spawn g7, kill it, and chdir.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
