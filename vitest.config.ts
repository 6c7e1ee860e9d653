import { defineConfig } from 'vitest/config';

// Three projects: `unit` (pure logic and the HTTP layer, no cluster), `cluster` (a real local
// control plane with a kwok node, started once per run by the global setup) and `realnode` (one
// more control plane with a real kubelet and containerd, for what only real containers show).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'api/**/*.test.ts',
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
          include: ['test/*.test.ts'],
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Files share one API server; keep the two cores for it and the controllers under test.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'realnode',
          include: ['test/realnode/**/*.test.ts'],
          // Its own control plane with a real node (containerd + kubelet): real containers.
          globalSetup: ['test/harness/global-setup-realnode.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
