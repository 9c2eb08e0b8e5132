import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Forks, not threads: several tests spawn g7, kill it, and chdir.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
