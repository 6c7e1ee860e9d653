// A leader change between two operator replicas (real Managers with Lease election and the real
// reconcilers): the new leader takes over the trigger without touching its credentials.
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import type { WebhookTrigger } from '../api/v1alpha1/index.ts';
import { loadConfig } from '../operator/config.ts';
import { register as registerTriggers } from '../operator/controllers/webhooktrigger/index.ts';
import { register as registerWorkflows } from '../operator/controllers/workflow/index.ts';
import { Manager } from '../operator/runtime/manager.ts';
import { kubeConfig, kubectl, useNamespace, waitFor } from './helpers.ts';

const ns = useNamespace('op-failover');
const system = useNamespace('op-failover-sys');
const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const managers: Manager[] = [];

async function replica(identity: string): Promise<Manager> {
  const config = loadConfig(
    [
      '--public-base-url=https://hooks.example.test',
      `--namespaces=${ns.name}`,
      `--ingress-namespace=${system.name}`,
      `--lease-namespace=${system.name}`,
      `--identity=${identity}`,
    ],
    {},
  );
  const m = new Manager({
    kubeConfig: kc,
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    namespaces: config.namespaces,
    leaderElection: {
      namespace: system.name,
      identity,
      leaseDurationMs: 6_000,
      renewDeadlineMs: 4_000,
      retryPeriodMs: 500,
    },
    onLeaderLost: () => {},
  });
  registerTriggers(m, config);
  registerWorkflows(m, config);
  await m.start();
  managers.push(m);
  return m;
}
afterAll(async () => {
  await Promise.all(managers.map((m) => m.stop()));
});

const trigger = async () =>
  (await custom.getNamespacedCustomObject({
    group: 'hookgate.io',
    version: 'v1alpha1',
    plural: 'webhooktriggers',
    namespace: ns.name,
    name: 'hook',
  })) as WebhookTrigger;

const manifest = (requests: number) => `
apiVersion: hookgate.io/v1alpha1
kind: Workflow
metadata: { name: wf }
spec:
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{ name: main, image: busybox }]
---
apiVersion: hookgate.io/v1alpha1
kind: WebhookTrigger
metadata: { name: hook }
spec:
  workflowRef: { name: wf }
  auth: { bearer: {}, signature: { scheme: github } }
  rateLimit: { requests: ${requests} }
`;

it('credentials survive a leader failover byte for byte, and the new leader reconciles', async () => {
  const a = await replica('replica-a');
  await waitFor(() => a.isLeader, { what: 'replica-a leads' });
  const b = await replica('replica-b');

  const applied = await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: manifest(30) });
  expect(applied.code, applied.stderr).toBe(0);
  await waitFor(
    async () => (await trigger()).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
    { what: 'trigger Ready under replica-a', timeoutMs: 60_000 },
  );
  const before = await core.readNamespacedSecret({ namespace: ns.name, name: 'hook-credentials' });
  expect(b.isLeader).toBe(false);

  await a.stop(); // graceful: releases the Lease
  await waitFor(() => b.isLeader, { what: 'replica-b takes over', timeoutMs: 20_000 });

  // An unrelated edit only the new leader can reconcile.
  const edited = await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: manifest(50) });
  expect(edited.code, edited.stderr).toBe(0);
  const t = await waitFor(
    async () => {
      const x = await trigger();
      return x.status?.observedGeneration === x.metadata.generation && x.metadata.generation === 2 && x;
    },
    { what: 'generation 2 observed by replica-b', timeoutMs: 30_000 },
  );
  expect(t.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  const after = await core.readNamespacedSecret({ namespace: ns.name, name: 'hook-credentials' });
  expect(after.data).toEqual(before.data);
  expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
});
