// Leader election against the real API server: its optimistic concurrency on the Lease is what
// makes two replicas safe, so no fake can prove it.
import { CoordinationV1Api, CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { isConflict, isNotFound } from '../lib/kube.ts';
import { LeaderElector, leaseClient } from '../operator/runtime/leader.ts';
import { Manager } from '../operator/runtime/manager.ts';
import type { Resource } from '../operator/runtime/types.ts';
import { kubeConfig, useNamespace, waitFor } from './helpers.ts';

const ns = useNamespace('leader');
const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function elector(lease: string, identity: string) {
  const e = new LeaderElector({ client: leaseClient(kc), namespace: ns.name, name: lease, identity, log });
  const lost: string[] = [];
  void e.run({ onStartedLeading: () => {}, onLost: (r) => lost.push(r) });
  cleanup.push(() => e.stop());
  return { e, lost, identity };
}

const holder = async (lease: string) =>
  (await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: ns.name, name: lease })).spec
    ?.holderIdentity;

describe('leader election on a Lease', () => {
  it('two electors: exactly one leads at every sample, and it is the Lease holder', async () => {
    const a = elector('one-leader', 'a');
    const b = elector('one-leader', 'b');
    await waitFor(() => a.e.isLeader || b.e.isLeader, { what: 'a leader' });
    for (let i = 0; i < 40; i++) {
      const leaders = [a, b].filter((x) => x.e.isLeader);
      expect(leaders.length).toBe(1);
      if (i % 10 === 0) expect(await holder('one-leader')).toBe(leaders[0]!.identity);
      await sleep(250);
    }
    expect([...a.lost, ...b.lost]).toEqual([]);
  });

  it('a gracefully stopped leader hands over within a few seconds', async () => {
    const a = elector('graceful', 'a');
    await waitFor(() => a.e.isLeader, { what: 'a leads' });
    const b = elector('graceful', 'b');
    await sleep(3000);
    expect(b.e.isLeader).toBe(false);
    const stoppedAt = Date.now();
    await a.e.stop();
    await waitFor(() => b.e.isLeader, { what: 'b takes over', timeoutMs: 10_000, intervalMs: 50 });
    expect(Date.now() - stoppedAt).toBeLessThan(4000);
    expect(await holder('graceful')).toBe('b');
  });

  it('a killed leader (no release) is replaced only after the lease expires', async () => {
    const a = elector('killed', 'a');
    await waitFor(() => a.e.isLeader, { what: 'a leads' });
    const b = elector('killed', 'b');
    await sleep(3000);
    await a.e.stop({ release: false });
    const killedAt = Date.now();
    expect(await holder('killed')).toBe('a');
    await waitFor(() => b.e.isLeader, { what: 'b takes over', timeoutMs: 30_000, intervalMs: 100 });
    const took = Date.now() - killedAt;
    // The lease lasts 15 s from a's last renewal, which was at most one retry period (2 s) before.
    expect(took).toBeGreaterThan(12_000);
    expect(took).toBeLessThan(20_000);
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
    cleanup.push(() => m.stop());
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
