// The chart's pods on the real node under what issue 20 tried from outside, with the kubelet
// enforcing the chart's memory limits: a tenant's cache flood, both components restarted under it
// (item 2), and the API server frozen 20 s, then killed and brought back (item 13).
import { readdirSync, readFileSync } from 'node:fs';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART } from '../chart.test-helper.ts';
import {
  apiServerPid,
  clusterInfo,
  forgeFlood,
  kubeConfig,
  kubectl,
  realNode,
  runBinary,
  useNamespace,
  waitFor,
} from '../helpers.ts';
import {
  applyObjects,
  credential,
  realNodeChartValues,
  requestRotation,
  triggerObject,
  waitForReady,
  workflowObject,
} from '../objects.test-helper.ts';

const { node, skip } = realNode();
const COUNT = 150;

describe.skipIf(skip)('the chart on the real node under floods and outages', () => {
  const system = useNamespace('hookgate-resilience');
  const tenant = useNamespace('resilience-tenant');
  const core = () => kubeConfig().makeApiClient(CoreV1Api);
  const helm = (args: string[], input?: string) =>
    runBinary('helm', [...args, '-n', system.name, `--kubeconfig=${clusterInfo().kubeconfigPath}`], input);

  beforeAll(async () => {
    const values = realNodeChartValues(node.hookgate);
    const r = await helm(['install', 'hookgate', CHART, '-f', '-'], JSON.stringify(values));
    expect(r.code, r.stderr).toBe(0);
    await allReady();
  });
  afterAll(async () => {
    await helm(['uninstall', 'hookgate']);
  });

  const pods = async (component: string) =>
    (
      await core().listNamespacedPod({
        namespace: system.name,
        labelSelector: `app.kubernetes.io/component=${component}`,
      })
    ).items.filter((p) => !p.metadata?.deletionTimestamp);
  const isReady = (p: V1Pod) =>
    p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

  /** Both Deployments' pods, once all are Ready (two operators, one ingress). */
  const allReady = () =>
    waitFor(
      async () => {
        const [operators, ingresses] = await Promise.all([pods('operator'), pods('ingress')]);
        const all = [...operators, ...ingresses];
        return operators.length === 2 && ingresses.length === 1 && all.every(isReady) && all;
      },
      { what: 'operator and ingress pods Ready', timeoutMs: 150_000 },
    ).catch(async (err) => {
      const r = await kubectl(['get', 'pods,events', '-n', system.name, '-o', 'wide']);
      throw new Error(`${err.message}\n${r.stdout}`);
    });

  /** What the kubelet did to the containers: restarts, and why the last one ended. */
  const restarts = (all: V1Pod[]) =>
    all.flatMap((p) =>
      (p.status?.containerStatuses ?? []).map((s) => ({
        pod: p.metadata!.name!,
        restarts: s.restartCount,
        waiting: s.state?.waiting?.reason,
        lastEnd: s.lastState?.terminated?.reason,
      })),
    );

  /**
   * A pod's process on this machine (the real node is this machine): the one in the pod's cgroup
   * that is not the pause container.
   */
  function processOf(pod: V1Pod): number {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (!readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(`pod${pod.metadata!.uid}`)) continue;
        if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('dist/')) return Number(entry);
      } catch {}
    }
    throw new Error(`no process of pod ${pod.metadata!.name}`);
  }
  /** Its resident set now and at its peak (VmHWM), in MiB. */
  function memoryOf(pod: V1Pod): { rss: number; peak: number } {
    const status = readFileSync(`/proc/${processOf(pod)}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) / 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  }
  const rssMiB = async (pod: V1Pod) => memoryOf(pod).rss;
  /**
   * The least of samples over 15 s: what the process holds, not a collection it has yet to run. A
   * flood passes ~60 MiB of JSON through the watches; V8 gives back what it collected only once the
   * allocation rate drops (its memory reducer), seconds after the last event.
   */
  async function settledRss(pod: V1Pod): Promise<number> {
    let least = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 15; i++) {
      least = Math.min(least, await rssMiB(pod));
      await new Promise((r) => setTimeout(r, 1000));
    }
    return least;
  }
  const memory = async () => {
    const [operators, [ingress]] = await Promise.all([pods('operator'), pods('ingress')]);
    return {
      operator: Math.max(...(await Promise.all(operators.map(settledRss)))),
      ingress: await settledRss(ingress!),
    };
  };

  const applyTrigger = (name: string) =>
    applyObjects(tenant.name, [workflowObject(name), triggerObject(name, name)]);
  const token = (name: string) => credential(tenant.name, name);
  /** A delivery to the ingress pod with this bearer token: its status. */
  const deliver = async (name: string, bearer: string) => {
    const [ingress] = await pods('ingress');
    const res = await fetch(`http://${ingress!.status!.podIP}:8080/hooks/${tenant.name}/${name}`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    });
    return res.status;
  };

  it('a tenant flood of 150 forged runs and credentials Secrets (200 KiB each): both restart and become Ready within their limits', async () => {
    await applyTrigger('real');
    const uid = (await waitForReady(tenant.name, 'real')).metadata.uid!;
    const before = await memory();
    await forgeFlood(tenant.name, { name: 'real', uid }, COUNT);
    const flooded = await memory();

    for (const d of ['operator', 'ingress'])
      expect(
        (await kubectl(['rollout', 'restart', '-n', system.name, `deployment/hookgate-${d}`])).code,
      ).toBe(0);
    const started = Date.now();
    await waitFor(
      async () => {
        const all = [...(await pods('operator')), ...(await pods('ingress'))];
        const fresh = all.filter((p) => Date.parse(String(p.metadata!.creationTimestamp)) >= started - 2000);
        return fresh.length === 3 && all.length === 3 && all.every(isReady);
      },
      { what: 'both Deployments rolled and Ready under the flood', timeoutMs: 180_000 },
    );
    const all = await allReady();
    const peaks = all.map(
      (p) =>
        `${p.metadata!.labels!['app.kubernetes.io/component']} ${memoryOf(p).peak.toFixed(0)} ` +
        `(limit ${p.spec!.containers[0]!.resources!.limits!.memory})`,
    );
    const restarted = await memory();
    console.log(
      `RSS on the real node (MiB): operator ${before.operator.toFixed(1)} -> ${flooded.operator.toFixed(1)} with the flood -> ` +
        `${restarted.operator.toFixed(1)} after a restart; ingress ${before.ingress.toFixed(1)} -> ${flooded.ingress.toFixed(1)} -> ` +
        `${restarted.ingress.toFixed(1)}; ready ${((Date.now() - started) / 1000).toFixed(0)} s after the restart; ` +
        `peak RSS of the new pods (MiB): ${peaks.join(', ')}`,
    );
    // No restart by the kubelet: none went past its memory limit (OOMKilled) or failed its probes.
    expect(restarts(all)).toEqual(
      all.map((p) => ({ pod: p.metadata!.name!, restarts: 0, waiting: undefined, lastEnd: undefined })),
    );
    expect(flooded.operator - before.operator).toBeLessThan(20);
    expect(flooded.ingress - before.ingress).toBeLessThan(20);
    // A fresh process is not the long-running one it replaces: its numbers are printed, and the
    // kubelet (no OOMKilled above) is the judge of its limit.
    for (const p of all)
      expect(memoryOf(p).peak).toBeLessThan(
        Number.parseInt(p.spec!.containers[0]!.resources!.limits!.memory!, 10),
      );
    expect(await deliver('real', await token('real'))).toBe(202);
  });

  it('the API server frozen 20 s, then killed and back: a new trigger Ready and a rotation in the ingress within 60 s, no pod restarted', async () => {
    await allReady();
    await applyTrigger('before');
    await waitForReady(tenant.name, 'before');
    const old = await token('before');
    await waitFor(async () => (await deliver('before', old)) === 202, { what: 'the ingress serving before' });

    const pid = await apiServerPid();
    process.kill(pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 20_000));
    process.kill(pid, 'SIGKILL');
    // The harness brings it back at its address, as a kubelet restarts a static pod.
    await waitFor(
      async () => (await apiServerPid()) !== pid && (await kubectl(['get', '--raw', '/readyz'])).code === 0,
      {
        what: 'the API server back',
        timeoutMs: 90_000,
        intervalMs: 500,
      },
    );
    const back = Date.now();

    await applyTrigger('after');
    await requestRotation(tenant.name, 'before', 'outage');
    await waitForReady(tenant.name, 'after');
    const fresh = await waitFor(
      async () => {
        const t = await token('before');
        return t !== old && t;
      },
      { what: 'the rotation', timeoutMs: 60_000 },
    );
    await waitFor(async () => (await deliver('before', fresh)) === 202, {
      what: 'the ingress accepting the rotated token',
      timeoutMs: 60_000 - (Date.now() - back),
    });
    expect(await deliver('after', await token('after'))).toBe(202);
    console.log(`recovered ${((Date.now() - back) / 1000).toFixed(1)} s after the API server was back`);
    expect(Date.now() - back).toBeLessThan(60_000);
    const all = [...(await pods('operator')), ...(await pods('ingress'))];
    expect(restarts(all).filter((r) => r.waiting === 'CrashLoopBackOff')).toEqual([]);
    expect(restarts(all).map((r) => r.restarts)).toEqual(all.map(() => 0));
  });
});
