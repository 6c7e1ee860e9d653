// The operator inside the test process: the real Manager and controllers. A replica elects on a
// Lease with short timings so that a leader change takes seconds, not the chart's 15 s lease.
import { CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterEach } from 'vitest';
import { type Config, loadConfig } from '../operator/config.ts';
import { register as registerTriggers } from '../operator/controllers/webhooktrigger/index.ts';
import { register as registerWorkflows } from '../operator/controllers/workflow/index.ts';
import { Manager } from '../operator/runtime/manager.ts';
import { kubeConfig, testLog, useNamespace } from './helpers.ts';

/**
 * What the operator runtime's own tests (leader-election, manager) start from: a namespace, admin
 * clients, a logger, and `cleanup`, whose stops run after each test, last registered first.
 */
export function useRuntimeTest(prefix: string) {
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });
  const kc = kubeConfig();
  return {
    ns: useNamespace(prefix),
    kc,
    core: kc.makeApiClient(CoreV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    log: testLog(),
    cleanup: (stop: () => Promise<unknown>) => stops.push(stop),
  };
}

/**
 * The one operator of a test file, without election, once its caches are synced: the real Manager
 * with the controllers `register` adds (both unless given), configured by the flags `args`.
 */
export async function startOperator(
  kubeConfig: KubeConfig,
  args: string[],
  register: ((m: Manager, config: Config) => void)[] = [registerTriggers, registerWorkflows],
): Promise<Manager> {
  const config = loadConfig(
    ['--public-base-url=https://hooks.example.test', '--leader-elect=false', ...args],
    {},
  );
  const m = new Manager({ kubeConfig, log: testLog(), namespaces: config.namespaces, leaderElection: false });
  for (const r of register) r(m, config);
  await m.start();
  await m.waitForSync();
  return m;
}

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
    log: testLog(),
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
