// The Manager against the real API server: caches, controllers and leader election together, as
// the operator runs them. (Election alone, and two managers failing over: leader-election.test.ts.)
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig, type KubernetesObject, type V1ConfigMap, V1MicroTime } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { type LeaderElectionConfig, Manager } from '../operator/runtime/manager.ts';
import type { Cache, Resource, Result } from '../operator/runtime/types.ts';
import { apiServerMetric, kubeConfig, setLeaseHolder, startApiServer, waitFor } from './helpers.ts';
import { useRuntimeTest } from './operator-replica.test-helper.ts';

const { ns, core, coordination, log, cleanup } = useRuntimeTest('manager');

// Each test selects its own ConfigMaps by label, so the tests' caches never see each other's.
const configMaps = (labelSelector: string): Resource => ({
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
  labelSelector,
});

function manager(opts: { kubeConfig?: KubeConfig; leaderElection?: LeaderElectionConfig } = {}) {
  const lost: { reason: string; at: number }[] = [];
  const m = new Manager({
    kubeConfig: opts.kubeConfig ?? kubeConfig(),
    log,
    registry: new Registry(),
    namespaces: [ns.name],
    leaderElection: opts.leaderElection ?? false,
    onLeaderLost: (reason) => lost.push({ reason, at: Date.now() }),
  });
  cleanup(() => m.stop());
  return { m, lost };
}

interface Reconciled {
  /** The key's name, with " (gone)" when the cache no longer held the object. */
  key: string;
  at: number;
  synced: boolean;
  leading: boolean;
  /** How many objects `counted` held. */
  count: number;
}

/** A reconciler that records every reconcile with what the manager and its caches held then. */
function recorder(
  name: string,
  m: Manager,
  cache: Cache<KubernetesObject>,
  opts: { result?: Result; counted?: Cache<KubernetesObject> } = {},
) {
  const seen: Reconciled[] = [];
  const reconciler = {
    name,
    async reconcile(k: { namespace: string; name: string }) {
      seen.push({
        key: cache.get(k) ? k.name : `${k.name} (gone)`,
        at: Date.now(),
        synced: m.hasSynced(),
        leading: m.isLeader,
        count: opts.counted?.list().length ?? 0,
      });
      return opts.result;
    },
  };
  return { seen, reconciler };
}

const keys = (seen: Reconciled[]) => seen.map((s) => s.key).sort();

async function createConfigMap(
  name: string,
  labels: Record<string, string>,
  data: Record<string, string> = {},
) {
  await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name, labels }, data } });
}

const patchData = (name: string, key: string, value: string) =>
  core.patchNamespacedConfigMap({
    namespace: ns.name,
    name,
    body: [{ op: 'replace', path: `/data/${key}`, value }],
  });

describe('Manager', () => {
  it('reconciles only after every cache synced, and maps a watched object to its old and new owner', async () => {
    const OWNERS = configMaps('hookgate-test-owner');
    const CHILDREN = configMaps('hookgate-test-child');
    await createConfigMap('owner-1', { 'hookgate-test-owner': '' });
    await createConfigMap('owner-2', { 'hookgate-test-owner': '' });
    // Enough children that a reconcile started before their cache synced would likely see it short.
    for (let i = 0; i < 20; i++)
      await createConfigMap(`child-${i}`, { 'hookgate-test-child': '' }, { owner: `owner-${1 + (i % 2)}` });

    const { m } = manager();
    const owners = m.cache(OWNERS);
    const children = m.cache(CHILDREN);
    const rec = recorder('owners', m, owners, { counted: children });
    m.add({
      for: OWNERS,
      watches: [
        {
          resource: CHILDREN,
          map: (o) => {
            const owner = (o as V1ConfigMap).data?.owner;
            return owner ? [{ namespace: ns.name, name: owner }] : [];
          },
        },
      ],
      reconciler: rec.reconciler,
    });
    await m.start();
    await waitFor(() => rec.seen.length >= 2, { what: 'initial reconciles' });
    // Everything was queued before the workers started, so each owner once.
    const initial = rec.seen.splice(0);
    expect(keys(initial)).toEqual(['owner-1', 'owner-2']);
    for (const r of initial) expect(r).toMatchObject({ synced: true, count: 20 });

    await createConfigMap('child-new', { 'hookgate-test-child': '' }, { owner: 'owner-1' });
    await waitFor(() => rec.seen.length >= 1, { what: 'reconcile for the new child' });
    expect(keys(rec.seen.splice(0))).toEqual(['owner-1']);

    // The child moves to the other owner: the old owner hears of it too (it lost a child).
    await patchData('child-new', 'owner', 'owner-2');
    await waitFor(() => rec.seen.length >= 2, { what: 'reconciles for the moved child' });
    expect(keys(rec.seen.splice(0))).toEqual(['owner-1', 'owner-2']);

    // A deleted object is still reconciled, its cache no longer holding it.
    await core.deleteNamespacedConfigMap({ namespace: ns.name, name: 'owner-1' });
    await waitFor(() => rec.seen.length >= 1, { what: 'reconcile for the deleted owner' });
    await sleep(500);
    expect(keys(rec.seen)).toEqual(['owner-1 (gone)']);
  });

  it('reconciles for the updates `changed` lets through, of its own objects and of watched ones', async () => {
    const OWNERS = configMaps('hookgate-test-pred-owner');
    const CHILDREN = configMaps('hookgate-test-pred-child');
    await createConfigMap('powner', { 'hookgate-test-pred-owner': '' }, { spec: '1', status: '1' });
    await createConfigMap('pchild', { 'hookgate-test-pred-child': '' }, { owner: 'powner', status: '1' });
    const { m } = manager();
    const owners = m.cache(OWNERS);
    const rec = recorder('pred', m, owners);
    // Only a change of `spec` (owners) or `owner` (children) matters, as a Generation predicate would.
    const differs = (field: string) => (a: KubernetesObject, b: KubernetesObject) =>
      (a as V1ConfigMap).data?.[field] !== (b as V1ConfigMap).data?.[field];
    m.add({
      for: OWNERS,
      changed: differs('spec'),
      watches: [
        {
          resource: CHILDREN,
          changed: differs('owner'),
          map: (o) => [{ namespace: ns.name, name: (o as V1ConfigMap).data?.owner ?? '' }],
        },
      ],
      reconciler: rec.reconciler,
    });
    await m.start();
    await waitFor(() => rec.seen.length >= 1, { what: 'initial reconcile' });
    rec.seen.splice(0);

    await patchData('powner', 'status', '2');
    await patchData('pchild', 'status', '2');
    await sleep(1000);
    expect(keys(rec.seen)).toEqual([]);

    await patchData('powner', 'spec', '2');
    await waitFor(() => rec.seen.length >= 1, { what: 'reconcile for the owner change' });
    await patchData('pchild', 'owner', 'powner-2');
    await waitFor(() => rec.seen.length >= 3, { what: 'reconciles for the moved child' });
    expect(keys(rec.seen)).toEqual(['powner', 'powner', 'powner-2 (gone)']);
  });

  it('shares one informer (one list, one watch) between controllers asking for the same resource', async () => {
    // The manager talks to an API server of its own, whose metrics then count its requests and
    // nobody else's (besides the server's own, taken as the baseline).
    const server = await startApiServer();
    cleanup(() => server.stop());
    const own = new KubeConfig();
    own.loadFromFile(server.kubeconfigPath);
    const SHARED = configMaps('hookgate-test=shared');
    const watches = () =>
      apiServerMetric(own, 'apiserver_longrunning_requests', {
        resource: 'configmaps',
        scope: 'namespace',
        verb: 'WATCH',
      });
    const lists = () =>
      apiServerMetric(own, 'apiserver_request_total', {
        resource: 'configmaps',
        scope: 'namespace',
        verb: 'LIST',
      });
    const before = { watches: await watches(), lists: await lists() };

    await createConfigMap('shared-1', { 'hookgate-test': 'shared' });
    const { m } = manager({ kubeConfig: own });
    const cache = m.cache(SHARED);
    expect(m.cache({ ...SHARED })).toBe(cache);
    const a = recorder('a', m, cache);
    const b = recorder('b', m, cache);
    m.add({ for: { ...SHARED }, reconciler: a.reconciler });
    m.add({ for: { ...SHARED }, reconciler: b.reconciler, workers: 2 });
    expect(() => m.add({ for: SHARED, reconciler: a.reconciler })).toThrow(/twice/);
    await m.start();
    await waitFor(() => a.seen.length >= 1 && b.seen.length >= 1, { what: 'both reconcile shared-1' });

    // Only a watch brings this one in, so every watch the controllers depend on is open now.
    await createConfigMap('shared-2', { 'hookgate-test': 'shared' });
    const heard = (seen: Reconciled[], key: string) => seen.some((s) => s.key === key);
    await waitFor(() => heard(a.seen, 'shared-2') && heard(b.seen, 'shared-2'), {
      what: 'both reconcile shared-2',
    });
    expect((await watches()) - before.watches).toBe(1);
    expect((await lists()) - before.lists).toBe(1);

    await core.deleteNamespacedConfigMap({ namespace: ns.name, name: 'shared-2' });
    await waitFor(() => heard(a.seen, 'shared-2 (gone)') && heard(b.seen, 'shared-2 (gone)'), {
      what: 'both reconcile the deletion',
    });
  });

  it('reconciles only while leading, and stops at once on losing the Lease', async () => {
    const lease = 'manager-leader';
    const LEADING = configMaps('hookgate-test=leading');
    // A Lease someone else renewed just now.
    await coordination.createNamespacedLease({
      namespace: ns.name,
      body: {
        metadata: { name: lease },
        spec: { holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: new V1MicroTime(Date.now()) },
      },
    });
    await createConfigMap('x', { 'hookgate-test': 'leading' }, { v: '1' });
    const { m, lost } = manager({
      leaderElection: { namespace: ns.name, name: lease, identity: 'me' },
    });
    const cache = m.cache(LEADING);
    // Reconciles again and again while it may, so any reconcile after losing would show.
    const rec = recorder('leading', m, cache, { result: { requeueAfter: 200 } });
    m.add({ for: LEADING, reconciler: rec.reconciler });
    const leaderMetric = async () => (await m.metrics.leader.get()).values[0]?.value;
    await m.start();
    await m.waitForSync();
    // More than a retry period: the elector has seen the other holder's Lease and backed off.
    await sleep(3000);
    expect(m.isLeader).toBe(false);
    expect(rec.seen).toEqual([]);
    expect(await leaderMetric()).toBe(0);

    // The other holder lets go: this replica takes over and works off what was queued meanwhile.
    await setLeaseHolder(ns.name, lease, undefined);
    await waitFor(() => rec.seen.length >= 3, { what: 'reconciles after the takeover', timeoutMs: 15_000 });
    expect(m.isLeader).toBe(true);
    expect(await leaderMetric()).toBe(1);

    await setLeaseHolder(ns.name, lease, 'thief');
    await waitFor(() => lost.length > 0, { what: 'the Lease lost', timeoutMs: 15_000, intervalMs: 50 });
    expect(lost.map((l) => l.reason)).toEqual(['lease taken by thief']);
    expect(m.isLeader).toBe(false);
    expect(await leaderMetric()).toBe(0);
    // The cache still follows the API server, but nothing acts on it any more.
    await patchData('x', 'v', '2');
    await waitFor(() => (cache.get({ namespace: ns.name, name: 'x' }) as V1ConfigMap).data?.v === '2', {
      what: 'the cache sees the update',
    });
    await sleep(1500);
    for (const r of rec.seen) expect(r).toMatchObject({ key: 'x', synced: true, leading: true });
    expect(Math.max(...rec.seen.map((r) => r.at))).toBeLessThanOrEqual(lost[0]!.at);
  });
});
