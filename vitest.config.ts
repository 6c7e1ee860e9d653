import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure logic and the HTTP layer, no cluster) and `cluster` (a real local
// control plane, started once per run by the global setup).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'operator/**/*.test.ts',
            'lib/**/*.test.ts',
            'ingress/**/*.test.ts',
            'cli/**/*.test.ts',
            'scripts/**/*.test.ts',
          ],
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/cluster/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Files share one API server; keep the two cores for it and the controllers under test.
          fileParallelism: false,
        },
      },
    ],
  },
});
