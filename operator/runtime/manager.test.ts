import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeApi, FakeLeases } from './fake-api.test-helper.ts';
import { Manager } from './manager.ts';
import type { ObjectKey, Resource } from './types.ts';

const log = pino({ level: 'silent' });
const CONFIGMAPS: Resource = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' };

async function until(fn: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(opts: { leases?: FakeLeases; identity?: string } = {}) {
  const api = new FakeApi();
  const kc = await api.listen();
  const lost: string[] = [];
  const manager = new Manager({
    kubeConfig: kc,
    log,
    registry: new Registry(),
    leaderElection: opts.leases
      ? {
          namespace: 'ns',
          identity: opts.identity ?? 'me',
          client: opts.leases.client(opts.identity ?? 'me'),
        }
      : false,
    onLeaderLost: (r) => lost.push(r),
  });
  cleanup.push(
    () => api.close(),
    () => manager.stop(),
  );
  return { api, manager, lost };
}

/** A reconciler that records keys and what its cache held at the time. */
function recording(name: string, cache: { get(k: ObjectKey): KubernetesObject | undefined }) {
  const seen: string[] = [];
  return {
    seen,
    reconciler: {
      name,
      async reconcile(k: ObjectKey) {
        seen.push(`${k.namespace}/${k.name}${cache.get(k) ? '' : ' (gone)'}`);
        return undefined;
      },
    },
  };
}

describe('Manager', () => {
  it('starts reconciling after the caches synced, and maps watched objects to owners (old and new)', async () => {
    const { api, manager } = await setup();
    api.put('ns', 'owner-1', {}, { owner: '' });
    api.put('ns', 'owner-2', {}, { owner: '' });
    const owners = manager.cache({ ...CONFIGMAPS, labelSelector: 'owner' });
    const rec = recording('owners', owners);
    manager.add({
      for: { ...CONFIGMAPS, labelSelector: 'owner' },
      watches: [
        {
          resource: CONFIGMAPS,
          map: (o) =>
            o.metadata?.name?.startsWith('child')
              ? [{ namespace: 'ns', name: String((o as { data?: { owner?: string } }).data?.owner) }]
              : [],
        },
      ],
      reconciler: rec.reconciler,
    });
    await manager.start();
    await manager.waitForSync();
    await until(() => rec.seen.length === 2, 'initial reconciles');
    expect(rec.seen.sort()).toEqual(['ns/owner-1', 'ns/owner-2']);
    // Two distinct informers (different selectors), each listed once.
    expect(api.requests.filter((u) => u.searchParams.get('watch') !== 'true').length).toBe(2);

    rec.seen.length = 0;
    await until(() => api.watches.length === 2, 'watches');
    api.send('ADDED', api.put('ns', 'child', { owner: 'owner-1' }));
    await until(() => rec.seen.length === 1, 'child add');
    // The child moves to another owner: both hear of it.
    api.send('MODIFIED', api.put('ns', 'child', { owner: 'owner-2' }));
    await until(() => rec.seen.length === 3, 'child update');
    expect(rec.seen.slice(1).sort()).toEqual(['ns/owner-1', 'ns/owner-2']);
  });

  it('shares one informer between controllers asking for the same resource', async () => {
    const { api, manager } = await setup();
    api.put('ns', 'x');
    const cache = manager.cache(CONFIGMAPS);
    const a = recording('a', cache);
    const b = recording('b', cache);
    manager.add({ for: CONFIGMAPS, reconciler: a.reconciler });
    manager.add({ for: CONFIGMAPS, reconciler: b.reconciler, workers: 2 });
    expect(() => manager.add({ for: CONFIGMAPS, reconciler: a.reconciler })).toThrow(/twice/);
    await manager.start();
    await until(() => a.seen.length === 1 && b.seen.length === 1, 'both reconcile');
    expect(api.requests.filter((u) => u.searchParams.get('watch') !== 'true').length).toBe(1);
    // A deleted object is still reconciled, with the cache no longer holding it.
    await until(() => api.watches.length === 1, 'watch');
    const x = api.objects.get('ns/x')!;
    api.objects.delete('ns/x');
    api.send('DELETED', x);
    await until(() => a.seen.length === 2, 'delete');
    expect(a.seen[1]).toBe('ns/x (gone)');
  });

  it('reconciles only while leading, and stops at once on losing the Lease', async () => {
    const leases = new FakeLeases();
    // Someone else holds a fresh Lease.
    await leases.client('other').create('ns', {
      metadata: { name: 'hookgate-operator-leader', namespace: 'ns' },
      spec: { holderIdentity: 'other', leaseDurationSeconds: 15 },
    });
    const { api, manager, lost } = await setup({ leases });
    api.put('ns', 'x');
    const cache = manager.cache(CONFIGMAPS);
    const rec = recording('c', cache);
    manager.add({ for: CONFIGMAPS, reconciler: rec.reconciler });
    await manager.start();
    await manager.waitForSync();
    await new Promise((r) => setTimeout(r, 2500));
    expect(manager.isLeader).toBe(false);
    expect(rec.seen).toEqual([]);
    expect(await (await manager.metrics.leader.get()).values[0]?.value).toBe(0);

    // The other holder releases: we take over and work off what queued up meanwhile.
    const current = await leases.client('other').read('ns', 'hookgate-operator-leader');
    await leases.client('other').replace('ns', 'hookgate-operator-leader', {
      ...current,
      spec: { ...current.spec, holderIdentity: undefined },
    });
    await until(() => rec.seen.length === 1, 'reconcile after takeover', 8000);
    expect(manager.isLeader).toBe(true);
    expect((await manager.metrics.leader.get()).values[0]?.value).toBe(1);

    // Someone steals the Lease: no more reconciles.
    const mine = await leases.client('thief').read('ns', 'hookgate-operator-leader');
    await leases.client('thief').replace('ns', 'hookgate-operator-leader', {
      ...mine,
      spec: { ...mine.spec, holderIdentity: 'thief' },
    });
    await until(() => lost.length === 1, 'lost', 8000);
    expect(manager.isLeader).toBe(false);
    await until(() => api.watches.length === 1, 'watch');
    api.send('MODIFIED', api.put('ns', 'x', { v: '2' }));
    await new Promise((r) => setTimeout(r, 300));
    expect(rec.seen.length).toBe(1);
  }, 20_000);
});
