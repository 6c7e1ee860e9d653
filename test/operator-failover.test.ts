// A leader change between two operator replicas (real Managers with Lease election and the real
// reconcilers): the new leader takes over the trigger without touching its credentials.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, expect, it } from 'vitest';
import type { Manager } from '../operator/runtime/manager.ts';
import { kubeConfig, useNamespace, waitFor } from './helpers.ts';
import { triggerObject, useTenant, workflowObject } from './objects.test-helper.ts';
import { startReplica } from './operator-replica.test-helper.ts';

const ns = useTenant('op-failover');
const system = useNamespace('op-failover-sys');
const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const managers: Manager[] = [];

async function replica(identity: string): Promise<Manager> {
  const m = await startReplica({ kubeConfig: kc, namespace: ns.name, system: system.name, identity });
  managers.push(m);
  return m;
}
afterAll(async () => {
  await Promise.all(managers.map((m) => m.stop()));
});

const apply = (requests: number) =>
  ns.apply(
    workflowObject('wf'),
    triggerObject('hook', 'wf', {
      spec: { auth: { bearer: {}, signature: { scheme: 'github' } }, rateLimit: { requests } },
    }),
  );

it('credentials survive a leader failover byte for byte, and the new leader reconciles', async () => {
  const a = await replica('replica-a');
  await waitFor(() => a.isLeader, { what: 'replica-a leads' });
  const b = await replica('replica-b');

  await apply(30);
  await ns.ready('hook');
  const before = await core.readNamespacedSecret({ namespace: ns.name, name: 'hook-credentials' });
  expect(b.isLeader).toBe(false);

  await a.stop(); // graceful: releases the Lease
  await waitFor(() => b.isLeader, { what: 'replica-b takes over', timeoutMs: 20_000 });

  // An unrelated edit only the new leader can reconcile.
  await apply(50);
  const t = await waitFor(
    async () => {
      const x = await ns.trigger('hook');
      return x.status?.observedGeneration === x.metadata.generation && x.metadata.generation === 2 && x;
    },
    { what: 'generation 2 observed by replica-b', timeoutMs: 30_000 },
  );
  expect(t.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  const after = await core.readNamespacedSecret({ namespace: ns.name, name: 'hook-credentials' });
  expect(after.data).toEqual(before.data);
  expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
});
