// An operator replica inside the test process: the real Manager and both controllers, electing on a
// Lease with short timings so that a leader change takes seconds, not the chart's 15 s lease.
import type { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { loadConfig } from '../operator/config.ts';
import { register as registerTriggers } from '../operator/controllers/webhooktrigger/index.ts';
import { register as registerWorkflows } from '../operator/controllers/workflow/index.ts';
import { Manager } from '../operator/runtime/manager.ts';

/** A started replica watching `namespace`, with its Lease and route Secrets in `system`. */
export async function startReplica(opts: {
  kubeConfig: KubeConfig;
  namespace: string;
  system: string;
  identity: string;
  onLeaderLost?: (reason: string) => void;
}): Promise<Manager> {
  const { namespace, system, identity } = opts;
  const config = loadConfig(
    [
      '--public-base-url=https://hooks.example.test',
      `--namespaces=${namespace}`,
      `--ingress-namespace=${system}`,
      `--lease-namespace=${system}`,
      `--identity=${identity}`,
    ],
    {},
  );
  const m = new Manager({
    kubeConfig: opts.kubeConfig,
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    namespaces: config.namespaces,
    leaderElection: {
      namespace: system,
      identity,
      leaseDurationMs: 6_000,
      renewDeadlineMs: 4_000,
      retryPeriodMs: 500,
    },
    onLeaderLost: opts.onLeaderLost ?? (() => {}),
  });
  registerTriggers(m, config);
  registerWorkflows(m, config);
  await m.start();
  return m;
}
