// Runs on a real node (containerd + kubelet, test/harness/realnode.ts), driven from outside through
// the real ingress and operator: what a workflow container really sees and does, which kwok's
// simulated pods cannot show.
import { createHash, randomBytes } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { GROUP, VERSION, WORKFLOW, type Workflow } from '../../api/v1alpha1/index.ts';
import { containerLog } from '../harness/index.ts';
import { kubeConfig, realNode, useHookgate, useNamespace, waitFor } from '../helpers.ts';
import {
  applyObjects,
  realNodePod,
  realNodeWorkflowObject,
  triggerEndpoint,
  triggerObject,
} from '../objects.test-helper.ts';

const { node, skip } = realNode();

type Answer = { run: string; [key: string]: unknown };

describe.skipIf(skip)('runs on a real node', () => {
  const app = useNamespace('realnode');
  useHookgate('rn');

  const core = () => kubeConfig().makeApiClient(CoreV1Api);

  /** A Workflow + bearer WebhookTrigger pair whose one container runs `script` in busybox on the real node. */
  async function workflow(name: string, script: string, opts: { spec?: object; trigger?: object } = {}) {
    await applyObjects(app.name, [
      // `sleep` as pid 1 ignores SIGTERM; do not wait 30 s for it.
      realNodeWorkflowObject(name, node.busybox, script, {
        spec: opts.spec,
        pod: { terminationGracePeriodSeconds: 1 },
      }),
      // No `_query` in the input: the file holds exactly the payload.
      triggerObject(name, name, { spec: { input: { query: false }, ...opts.trigger } }),
    ]);
    const { url, token } = await triggerEndpoint(app.name, name);
    /**
     * Sends once the ingress serves the route: 404 until it has one, and 503 trigger_unavailable
     * while the Workflow's first dry run is still under way (the trigger's URL is in its status by
     * then).
     */
    return (body: string, headers: Record<string, string> = {}) =>
      waitFor(
        async () => {
          const res = await fetch(url, {
            method: 'POST',
            body,
            headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, ...headers },
          });
          const answer = (await res.json()) as Answer & { error?: { code?: string } };
          const notYet = res.status === 404 || answer.error?.code === 'trigger_unavailable';
          return !notYet && { status: res.status, body: answer as Answer };
        },
        { what: `a route for ${name}` },
      );
  }

  async function podOf(run: string): Promise<V1Pod | undefined> {
    const pods = await core().listNamespacedPod({ namespace: app.name, labelSelector: `job-name=${run}` });
    return pods.items[0];
  }

  /** The finished pod of a run (on the real node) and its container's stdout from the kubelet's files. */
  async function finished(run: string) {
    const pod = await waitFor(
      async () => {
        const p = await podOf(run);
        return p?.status?.containerStatuses?.[0]?.state?.terminated && p;
      },
      { what: `${run}'s container to finish`, timeoutMs: 60_000 },
    );
    expect(pod.spec!.nodeName).toBe(node.name);
    const stdout = await containerLog(node, app.name, pod.metadata!.name!, 'main');
    return { pod, terminated: pod.status!.containerStatuses![0]!.state!.terminated!, stdout: stdout ?? '' };
  }

  it("hands the container the delivery's payload byte for byte, up to 1 MiB", async () => {
    const send = await workflow('echo', 'cat "$HOOKGATE_INPUT_FILE"; echo; sha256sum "$HOOKGATE_INPUT_FILE"');
    const small = JSON.stringify({ hello: 'wörld', n: 1, nested: { list: [1, 2, 3] }, quote: '"\\' });
    // Exactly the ingress's body limit and the Secret's 1 MiB.
    const filler = 'x'.repeat(1024 * 1024 - '{"data":""}'.length);
    const big = JSON.stringify({ data: filler });
    expect(Buffer.byteLength(big)).toBe(1024 * 1024);
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');

    for (const body of [small, big]) {
      const answer = await send(body);
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
      const { terminated, stdout } = await finished(answer.body.run);
      expect(terminated.exitCode).toBe(0);
      const lines = stdout.trimEnd().split('\n');
      expect(lines.at(-1)).toBe(`${sha(body)}  /var/run/hookgate/input.json`);
      if (body === small) expect(lines[0]).toBe(small);
    }
  });

  it('reports a failing container: Failed with its exit code and termination message', async () => {
    const send = await workflow('fails', 'printf "disk full: /data" > /dev/termination-log; exit 3', {
      trigger: { response: { mode: 'wait', timeoutSeconds: 60, includeOutput: true } },
    });
    const answer = await send('{}');
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ result: 'Failed', exitCode: 3, output: 'disk full: /data' });
    const run = answer.body.run as string;
    const recent = await waitFor(
      async () => {
        const wf = (await kubeConfig().makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: WORKFLOW.plural,
          namespace: app.name,
          name: 'fails',
        })) as Workflow;
        return wf.status?.recentRuns?.find((r) => r.name === run && r.message);
      },
      { what: 'the run in recentRuns with its message' },
    );
    expect(recent).toMatchObject({ result: 'Failed', message: 'disk full: /data' });
  });

  it('Forbid answers 409 while a container really runs; Replace stops it', async () => {
    const running = (run: string) =>
      waitFor(
        async () => {
          const p = await podOf(run);
          return p?.status?.containerStatuses?.[0]?.state?.running && p;
        },
        { what: `${run}'s container running`, timeoutMs: 60_000 },
      );

    const forbid = await workflow('forbid', 'sleep 300', { spec: { concurrencyPolicy: 'Forbid' } });
    const first = await forbid('{"n":1}');
    expect(first.status).toBe(202);
    await running(first.body.run);
    const second = await forbid('{"n":2}');
    expect(second.status, JSON.stringify(second.body)).toBe(409);

    const replace = await workflow('replace', 'sleep 300', { spec: { concurrencyPolicy: 'Replace' } });
    const old = await replace('{"n":1}');
    const oldPod = await running(old.body.run);
    const next = await replace('{"n":2}');
    expect(next.status, JSON.stringify(next.body)).toBe(202);
    // A pod leaves the API only after its kubelet has stopped its containers.
    await waitFor(
      async () =>
        !(await core().listNamespacedPod({ namespace: app.name })).items.some(
          (p) => p.metadata!.uid === oldPod.metadata!.uid,
        ),
      { what: 'the replaced pod stopped and gone', timeoutMs: 60_000 },
    );
    await running(next.body.run);
  });

  it('passes the idempotency key and the payload to the container unexpanded', async () => {
    const send = await workflow(
      'verbatim',
      'printf "%s\\n" "$HOOKGATE_DELIVERY_ID"; cat "$HOOKGATE_INPUT_FILE"',
    );
    // $(HOOKGATE_RUN) names a variable defined before HOOKGATE_DELIVERY_ID: the kubelet expands it
    // (and turns $$ into $) unless the run builder escapes the value.
    const key = '$(HOSTNAME)-$(HOOKGATE_RUN)-$$';
    const body = JSON.stringify({ text: '$(HOOKGATE_RUN) $(VAR) $$' });
    const answer = await send(body, { 'Idempotency-Key': key });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    const { stdout } = await finished(answer.body.run);
    expect(stdout).toBe(`${key}\n${body}`);
  });

  it('mounts the input read-only, and other pods cannot read it', async () => {
    const send = await workflow(
      'readonly',
      'if echo changed > "$HOOKGATE_INPUT_FILE"; then echo WRITABLE; else echo read-only; fi; cat "$HOOKGATE_INPUT_FILE"',
    );
    const answer = await send('{"secret":"s3cr3t"}');
    const { stdout } = await finished(answer.body.run);
    expect(stdout).toContain('read-only');
    expect(stdout).not.toContain('WRITABLE');
    expect(stdout).toContain('{"secret":"s3cr3t"}');

    // Another pod on the same node, in the same namespace, looking where the file was.
    const name = `snoop-${randomBytes(3).toString('hex')}`;
    await core().createNamespacedPod({
      namespace: app.name,
      body: {
        metadata: { name },
        spec: realNodePod(node.busybox, 'cat /var/run/hookgate/input.json; ls -R /var/run; echo done'),
      },
    });
    const snoop = await waitFor(
      async () => {
        const p = await core().readNamespacedPod({ namespace: app.name, name });
        return p.status?.containerStatuses?.[0]?.state?.terminated && p;
      },
      { what: 'the snooping pod to finish', timeoutMs: 60_000 },
    );
    const out = await containerLog(node, app.name, name, 'main');
    expect(snoop.spec!.nodeName).toBe(node.name);
    expect(out).toContain('done');
    expect(out).not.toContain('s3cr3t');
  });
});
