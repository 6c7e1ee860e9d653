// Leader election against the real API server: its optimistic concurrency on the Lease is what
// makes two replicas safe, so no fake can prove it.
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig, type V1ConfigMap, type V1Lease } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { isConflict, isNotFound, KubeClient } from '../lib/kube.ts';
import { LeaderElector, leaseClient } from '../operator/runtime/leader.ts';
import { Manager } from '../operator/runtime/manager.ts';
import type { Resource } from '../operator/runtime/types.ts';
import { kubeConfig, setLeaseHolder, startApiServer, waitFor } from './helpers.ts';
import { useRuntimeTest } from './operator-replica.test-helper.ts';

const { ns, kc, core, coordination, log, cleanup } = useRuntimeTest('leader');

/** An elector on the default timings (lease 15 s, renew deadline 10 s, retry 2 s). */
function elector(lease: string, identity: string, client = kc) {
  const e = new LeaderElector({
    client: leaseClient(new KubeClient(client)),
    namespace: ns.name,
    name: lease,
    identity,
    log,
  });
  // When the callbacks ran, on one clock, to order events between two electors.
  const x = { e, identity, lost: [] as string[], startedAt: 0, lostAt: 0 };
  void e.run({
    onStartedLeading: () => {
      x.startedAt = Date.now();
    },
    onLost: (r) => {
      x.lostAt = Date.now();
      x.lost.push(r);
    },
  });
  cleanup(() => e.stop());
  return x;
}

/** `a` leading `lease` (through `aClient`), and `b` campaigning for it in vain for 3 s. */
async function leaderAndCandidate(lease: string, aClient = kc) {
  const a = elector(lease, 'a', aClient);
  await waitFor(() => a.e.isLeader, { what: 'a leads' });
  const b = elector(lease, 'b');
  await sleep(3000);
  expect(b.e.isLeader).toBe(false);
  return { a, b };
}

const readLease = (name: string): Promise<V1Lease> =>
  coordination.readNamespacedLease({ namespace: ns.name, name });
const holder = async (lease: string) => (await readLease(lease)).spec?.holderIdentity;
const millis = (t: Date | string | undefined) => (t === undefined ? Number.NaN : new Date(t).getTime());

describe('leader election on a Lease', () => {
  it('two electors: exactly one leads at every sample, and it is the Lease holder', async () => {
    const a = elector('one-leader', 'a');
    const b = elector('one-leader', 'b');
    await waitFor(() => a.e.isLeader || b.e.isLeader, { what: 'a leader' });
    const first = [a, b].find((x) => x.e.isLeader)!;
    for (let i = 0; i < 40; i++) {
      const leaders = [a, b].filter((x) => x.e.isLeader).map((x) => x.identity);
      expect(leaders).toEqual([first.identity]);
      if (i % 10 === 0) expect(await holder('one-leader')).toBe(first.identity);
      await sleep(250);
    }
    expect([...a.lost, ...b.lost]).toEqual([]);
    // The loser never took the Lease, not even for a moment between two samples.
    expect((await readLease('one-leader')).spec?.leaseTransitions).toBe(0);
  });

  it('renewals carry a renewTime the API server accepts (a MicroTime, not a millisecond Date)', async () => {
    // The API server refuses a renewTime without microseconds, so an elector sending one would
    // never lead, or lead once and never renew.
    const a = elector('micro', 'a');
    await waitFor(() => a.e.isLeader, { what: 'a leads' });
    const created = millis((await readLease('micro')).spec?.renewTime);
    await waitFor(async () => millis((await readLease('micro')).spec?.renewTime) > created, {
      what: 'a renewal',
      timeoutMs: 10_000,
    });
    expect(a.e.isLeader).toBe(true);
    expect(a.lost).toEqual([]);
  });

  it('a gracefully stopped leader hands over within a retry period', async () => {
    const { a, b } = await leaderAndCandidate('graceful');
    const stoppedAt = Date.now();
    await a.e.stop();
    await waitFor(() => b.e.isLeader, { what: 'b takes over', timeoutMs: 10_000, intervalMs: 50 });
    // One retry period (2 s + 20% jitter) plus a read and a write on a loaded machine; a Lease
    // left to expire would take the whole lease duration (15 s).
    expect(Date.now() - stoppedAt).toBeLessThan(6000);
    expect(await holder('graceful')).toBe('b');
    // Stopping is not losing.
    expect(a.lost).toEqual([]);
  });

  it('a killed leader (no release) is replaced only after the lease expires', async () => {
    const { a, b } = await leaderAndCandidate('killed');
    await a.e.stop({ release: false });
    const last = await readLease('killed');
    expect(last.spec?.holderIdentity).toBe('a');
    await waitFor(() => b.e.isLeader, { what: 'b takes over', timeoutMs: 40_000, intervalMs: 100 });
    // From a's last renewal (its renewTime is on this process's clock): b waits the lease duration
    // (15 s) from when it saw that renewal, less at most the time its read took; giving up at the
    // renew deadline (10 s) plus a retry would be well short of it.
    const sinceRenewal = b.startedAt - millis(last.spec?.renewTime);
    expect(sinceRenewal).toBeGreaterThan(14_000);
    expect(sinceRenewal).toBeLessThan(30_000);
    expect(await holder('killed')).toBe('b');
  });

  it('a leader cut off from the API server stops leading before the other starts', async () => {
    // a talks to an API server of its own (same etcd); stopping it cuts a off while b, on the
    // main API server, goes on campaigning.
    const server = await startApiServer();
    cleanup(() => server.stop());
    const cut = new KubeConfig();
    cut.loadFromFile(server.kubeconfigPath);
    const { a, b } = await leaderAndCandidate('cut-off', cut);

    await server.stop();
    let overlaps = 0;
    await waitFor(
      () => {
        if (a.e.isLeader && b.e.isLeader) overlaps++;
        return b.e.isLeader;
      },
      { what: 'b takes over', timeoutMs: 40_000, intervalMs: 50 },
    );
    expect(a.lost).toEqual([expect.stringMatching(/not renewed/)]);
    expect(a.e.isLeader).toBe(false);
    expect(a.lostAt).toBeGreaterThan(0);
    expect(a.lostAt).toBeLessThan(b.startedAt);
    expect(overlaps).toBe(0);
    expect(await holder('cut-off')).toBe('b');
  });

  it('loses at once when another holder shows up in the Lease, and never writes it again', async () => {
    const a = elector('taken', 'a');
    await waitFor(() => a.e.isLeader, { what: 'a leads' });
    await setLeaseHolder(ns.name, 'taken', 'x');
    await waitFor(() => a.lost.length > 0, { what: 'a loses', timeoutMs: 10_000, intervalMs: 50 });
    // Taken, not timed out: it noticed at its next renewal rather than waiting for its deadline.
    expect(a.lost).toEqual(['lease taken by x']);
    expect(a.e.isLeader).toBe(false);
    const after = await readLease('taken');
    // Deposed: no release on stop, and no campaign a retry period later.
    await a.e.stop();
    await sleep(3000);
    const now = await readLease('taken');
    expect(now.spec?.holderIdentity).toBe('x');
    expect(now.metadata?.resourceVersion).toBe(after.metadata?.resourceVersion);
  });
});

describe('two managers', () => {
  // A trivial controller: every reconcile of a labelled ConfigMap appends this replica's identity
  // to the ConfigMap "writes", then asks to run again soon, so a replica that reconciled while not
  // leading would show up in the log within a second.
  const INPUTS: Resource = {
    group: '',
    version: 'v1',
    plural: 'configmaps',
    kind: 'ConfigMap',
    labelSelector: 'hookgate-test=leader',
  };

  async function appendWrite(identity: string): Promise<void> {
    const current = await core.readNamespacedConfigMap({ namespace: ns.name, name: 'writes' });
    const log = current.data?.log ? `${current.data.log}\n${identity}` : identity;
    await core.replaceNamespacedConfigMap({
      namespace: ns.name,
      name: 'writes',
      body: { ...current, data: { log } },
    });
  }

  function manager(identity: string) {
    const registry = new Registry();
    const lost: string[] = [];
    const m = new Manager({
      kubeConfig: kubeConfig(),
      log,
      registry,
      namespaces: [ns.name],
      leaderElection: { namespace: ns.name, name: 'managers', identity },
      onLeaderLost: (r) => lost.push(r),
      healthPort: 0,
      metricsPort: 0,
    });
    const inputs = m.cache<V1ConfigMap>(INPUTS);
    m.add({
      for: INPUTS,
      reconciler: {
        name: 'writer',
        async reconcile(key) {
          if (!inputs.get(key)) return undefined;
          try {
            await appendWrite(identity);
          } catch (err) {
            if (!isConflict(err)) throw err;
            return { requeue: true };
          }
          return { requeueAfter: 300 };
        },
      },
    });
    cleanup(() => m.stop());
    return { m, registry, lost, identity };
  }

  const writes = async () =>
    ((await core.readNamespacedConfigMap({ namespace: ns.name, name: 'writes' })).data?.log ?? '')
      .split('\n')
      .filter(Boolean);

  it('only the leader writes, before and after a failover', async () => {
    await core.deleteNamespacedConfigMap({ namespace: ns.name, name: 'writes' }).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'writes' } } });
    for (const name of ['in-1', 'in-2'])
      await core.createNamespacedConfigMap({
        namespace: ns.name,
        body: { metadata: { name, labels: { 'hookgate-test': 'leader' } }, data: { v: '0' } },
      });

    const a = manager('replica-a');
    const b = manager('replica-b');
    await a.m.start();
    await waitFor(() => a.m.isLeader, { what: 'replica-a leads' });
    await b.m.start();
    await waitFor(() => a.m.hasSynced() && b.m.hasSynced(), { what: 'caches synced' });

    // Events reach both replicas' caches; only one may act on them.
    for (let i = 1; i <= 5; i++) {
      await core.patchNamespacedConfigMap({
        namespace: ns.name,
        name: 'in-1',
        body: [{ op: 'replace', path: '/data/v', value: String(i) }],
      });
      await sleep(500);
    }
    const before = await writes();
    expect(before.length).toBeGreaterThan(5);
    expect(new Set(before)).toEqual(new Set(['replica-a']));
    const metric = async (r: Registry) =>
      (await r.getSingleMetric('hookgate_leader')!.get()).values[0]?.value;
    expect(await metric(a.registry)).toBe(1);
    expect(await metric(b.registry)).toBe(0);
    const readyz = await fetch(`http://127.0.0.1:${b.m.ports.health}/readyz`);
    expect(readyz.status).toBe(200);

    await a.m.stop();
    const afterStop = (await writes()).length;
    await waitFor(async () => (await writes()).length > afterStop + 5, {
      what: 'replica-b writing',
      timeoutMs: 15_000,
    });
    const all = await writes();
    const firstB = all.indexOf('replica-b');
    // Every write before the failover is a's, every write after it b's: never interleaved.
    expect(new Set(all.slice(0, firstB))).toEqual(new Set(['replica-a']));
    expect(new Set(all.slice(firstB))).toEqual(new Set(['replica-b']));
    expect(firstB).toBe(afterStop);
    expect(await metric(b.registry)).toBe(1);
    expect([...a.lost, ...b.lost]).toEqual([]);
    const total = await b.registry.getSingleMetric('hookgate_reconcile_total')!.get();
    expect(total.values.find((v) => v.labels.result === 'requeue_after')?.value).toBeGreaterThan(0);
  });
});
