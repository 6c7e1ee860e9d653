// The Helm chart running hookgate's own image as pods on the real node: the image, the chart's
// security contexts and probes and in-cluster configuration (the `kubernetes` Service) together.
import { randomBytes } from 'node:crypto';
import { CoordinationV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART } from '../chart.test-helper.ts';
import { containerLog } from '../harness/index.ts';
import { clusterInfo, kubeConfig, kubectl, realNode, runBinary, useNamespace, waitFor } from '../helpers.ts';
import {
  applyObjects,
  credential,
  realNodeChartValues,
  realNodeWorkflowObject,
  triggerObject,
  waitForReady,
} from '../objects.test-helper.ts';

const { node, skip } = realNode();

describe.skipIf(skip)('the chart as pods on the real node', () => {
  const system = useNamespace('hookgate-chart');
  const app = useNamespace('chart-runs');
  const core = () => kubeConfig().makeApiClient(CoreV1Api);
  const kubeconfig = () => `--kubeconfig=${clusterInfo().kubeconfigPath}`;

  beforeAll(async () => {
    const values = realNodeChartValues(node.hookgate);
    const r = await runBinary(
      'helm',
      ['install', 'hookgate', CHART, '-n', system.name, kubeconfig(), '-f', '-'],
      JSON.stringify(values),
    );
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => {
    await runBinary('helm', ['uninstall', 'hookgate', '-n', system.name, kubeconfig()]);
  });

  const pods = async (component: string) =>
    (
      await core().listNamespacedPod({
        namespace: system.name,
        labelSelector: `app.kubernetes.io/component=${component}`,
      })
    ).items;
  const ready = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

  it('starts operator and ingress under the chart security contexts, passing their probes', async () => {
    const all = await waitFor(
      async () => {
        const [operators, ingresses] = await Promise.all([pods('operator'), pods('ingress')]);
        return operators.length === 2 && ingresses.length === 1 && [...operators, ...ingresses].every(ready)
          ? [...operators, ...ingresses]
          : undefined;
      },
      { what: 'operator and ingress pods Ready', timeoutMs: 150_000 },
    ).catch(async (err) => {
      const r = await kubectl(['get', 'pods,events', '-n', system.name, '-o', 'wide']);
      throw new Error(`${err.message}\n${r.stdout}`);
    });
    for (const pod of all) {
      expect(pod.spec!.nodeName).toBe(node.name);
      expect(pod.spec!.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
      const c = pod.spec!.containers[0]!;
      expect(c.image).toBe(node.hookgate);
      expect(c.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(pod.status!.containerStatuses![0]!.restartCount).toBe(0);
    }
    // Two replicas, one leader: the Lease names one of the operator pods.
    const leases = await kubeConfig()
      .makeApiClient(CoordinationV1Api)
      .listNamespacedLease({ namespace: system.name });
    const holders = leases.items.map((l) => l.spec?.holderIdentity ?? '');
    const operators = (await pods('operator')).map((p) => p.metadata!.name!);
    expect(holders.filter((h) => operators.some((o) => h.includes(o)))).toHaveLength(1);
  });

  it('passes `helm test`: a pod of its own finds the ingress ready and an unknown trigger 404', async () => {
    // This node has no Service proxy or DNS: the test pod is pointed at the ingress pod itself.
    const [ingress] = await pods('ingress');
    const ip = ingress!.status!.podIP;
    const notFound = async () => {
      const text = await (await fetch(`http://${ip}:9090/metrics`)).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith('hookgate_ingress_requests_total{trigger="unknown",outcome="not_found"}'));
      return Number(line?.split(' ')[1] ?? 0);
    };
    const before = await notFound();
    const url = `tests.ingressURL=http://${ip}:8080`;
    const up = await runBinary('helm', [
      'upgrade',
      'hookgate',
      CHART,
      '-n',
      system.name,
      kubeconfig(),
      '--reuse-values',
      '--set',
      url,
    ]);
    expect(up.code, up.stderr).toBe(0);
    // No --logs: kubectl logs cannot reach this kubelet, and a passed test pod is deleted.
    const r = await runBinary('helm', ['test', 'hookgate', '-n', system.name, kubeconfig(), '--timeout=2m']);
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/TEST SUITE: +hookgate-test-ingress[\s\S]*Phase: +Succeeded/);
    // The test pod's request for an unknown trigger reached the ingress.
    expect(await notFound()).toBe(before + 1);
  });

  it('runs a delivery sent to the ingress pod as a real container', async () => {
    const name = `chart-${randomBytes(3).toString('hex')}`;
    const script = 'echo "ran $HOOKGATE_RUN"; cat "$HOOKGATE_INPUT_FILE"';
    await applyObjects(app.name, [
      realNodeWorkflowObject(name, node.busybox, script),
      triggerObject(name, name, { spec: { input: { query: false } } }),
    ]);
    // The operator pod reconciled it.
    await waitForReady(app.name, name);
    const token = await credential(app.name, name);
    const [ingress] = await pods('ingress');
    const url = `http://${ingress!.status!.podIP}:8080/hooks/${app.name}/${name}`;
    const body = JSON.stringify({ from: 'outside', via: 'the ingress pod' });
    const answer = await waitFor(
      async () => {
        const res = await fetch(url, {
          method: 'POST',
          body,
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        });
        return res.status !== 404 && { status: res.status, body: (await res.json()) as { run: string } };
      },
      { what: `a route for ${name} in the ingress pod` },
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    const pod = await waitFor(
      async () => {
        const list = await core().listNamespacedPod({
          namespace: app.name,
          labelSelector: `job-name=${answer.body.run}`,
        });
        const p = list.items[0];
        return p?.status?.containerStatuses?.[0]?.state?.terminated && p;
      },
      { what: 'the run to finish', timeoutMs: 60_000 },
    );
    expect(pod.spec!.nodeName).toBe(node.name);
    expect(pod.status!.containerStatuses![0]!.state!.terminated!.exitCode).toBe(0);
    expect(await containerLog(node, app.name, pod.metadata!.name!, 'main')).toBe(
      `ran ${answer.body.run}\n${body}`,
    );
  });
});
