// The Workflow reconciler against the real API server: server-side dry-run validation, Jobs run to
// completion or failure by the job controller and kwok, and history pruning.
import { BatchV1Api, CustomObjectsApi, type V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition, Workflow } from '../api/v1alpha1/index.ts';
import { register as registerWorkflows } from '../operator/controllers/workflow/index.ts';
import type { Manager } from '../operator/runtime/manager.ts';
import { kubeConfig, kubectl, useNamespace, waitFor } from './helpers.ts';
import { observed } from './objects.test-helper.ts';
import { startOperator } from './operator-replica.test-helper.ts';

const ns = useNamespace('op-workflow');
const kc = kubeConfig();
const custom = kc.makeApiClient(CustomObjectsApi);
const batch = kc.makeApiClient(BatchV1Api);

let manager: Manager | undefined;
beforeAll(async () => {
  manager = await startOperator(kc, [`--namespaces=${ns.name}`], [registerWorkflows]);
});
afterAll(() => manager?.stop());

const apply = async (yaml: string) => {
  const r = await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: yaml });
  expect(r.code, r.stderr).toBe(0);
};
const workflowYaml = (name: string, pod: string, extra = '') => `
apiVersion: hookgate.io/v1alpha1
kind: Workflow
metadata: { name: ${name} }
spec:
${extra}
  jobTemplate:
    spec:
      backoffLimit: 0
      template:
        spec:
${pod}
`;
const goodPod = `          restartPolicy: Never
          containers: [{ name: run, image: busybox }]`;

const getWorkflow = async (name: string) =>
  (await custom.getNamespacedCustomObject({
    group: 'hookgate.io',
    version: 'v1alpha1',
    namespace: ns.name,
    plural: 'workflows',
    name,
  })) as Workflow;
const cond = (w: Workflow, type: string): Condition | undefined =>
  w.status?.conditions?.find((c) => c.type === type);
/** The Workflow once its status reflects its current generation and `ok` holds. */
const settled = (name: string, ok: (w: Workflow) => boolean, what: string) =>
  observed(() => getWorkflow(name), ok, { what });
const ready = (name: string) => settled(name, (x) => cond(x, 'Ready')?.status === 'True', `${name} Ready`);
const invalid = (name: string, reason = 'InvalidJobTemplate') =>
  settled(name, (x) => cond(x, 'Ready')?.reason === reason, `${name} ${reason}`);

/** A run as the ingress creates it: labelled, owned by the Workflow. */
function run(wf: Workflow, name: string, fail?: { exitCode: number; message: string }): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: ns.name,
      labels: {
        'app.kubernetes.io/managed-by': 'hookgate',
        'hookgate.io/workflow': wf.metadata.name!,
        'hookgate.io/trigger': 'gh',
      },
      annotations: { 'hookgate.io/delivery-id': `delivery-${name}` },
      ownerReferences: [
        {
          apiVersion: 'hookgate.io/v1alpha1',
          kind: 'Workflow',
          name: wf.metadata.name!,
          uid: wf.metadata.uid!,
          controller: true,
        },
      ],
    },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: fail
          ? {
              annotations: {
                'hookgate.io/test-fail-exit-code': String(fail.exitCode),
                'hookgate.io/test-fail-message': fail.message,
              },
            }
          : {},
        spec: { restartPolicy: 'Never', containers: [{ name: 'run', image: 'busybox' }] },
      },
    },
  };
}

describe('Workflow', () => {
  it('a valid job template is Ready after a server-side dry run', async () => {
    await apply(workflowYaml('ok', goodPod));
    const w = await ready('ok');
    expect(cond(w, 'Ready')?.reason).toBe('Succeeded');
    expect(cond(w, 'Stalled')?.status).toBe('False');
  });

  it('restartPolicy Always: Stalled InvalidJobTemplate', async () => {
    await apply(workflowYaml('always', goodPod.replace('Never', 'Always')));
    const w = await invalid('always');
    expect(cond(w, 'Ready')).toMatchObject({
      status: 'False',
      message: expect.stringContaining('restartPolicy'),
    });
    expect(cond(w, 'Stalled')?.status).toBe('True');
  });

  it("what the API server rejects: InvalidJobTemplate with the server's message, Ready once fixed", async () => {
    await apply(
      workflowYaml(
        'typo',
        `          restartPolicy: Never\n          containers: [{ name: Bad_Name, image: busybox }]`,
      ),
    );
    const w = await invalid('typo');
    expect(cond(w, 'Ready')?.message).toContain('spec.template.spec.containers[0].name');
    expect(cond(w, 'Stalled')?.status).toBe('True');
    // Unknown fields too: the template goes to the server as written, with strict field validation.
    await apply(
      workflowYaml(
        'typo',
        `          restartPolicy: Never\n          containers: [{ name: run, image: busybox, imagePullPolcy: Always }]`,
      ),
    );
    const w2 = await invalid('typo');
    expect(cond(w2, 'Ready')?.message).toContain('imagePullPolcy');
    await apply(workflowYaml('typo', goodPod));
    await ready('typo');
  });

  // Regression: the operator dry-ran the user's template while the ingress added the input volume,
  // mounts and env, so this Workflow was Ready and every delivery was answered 500.
  it("a container already mounting the input directory: Stalled with the API server's message", async () => {
    const pod = `          restartPolicy: Never
          volumes: [{ name: scratch, emptyDir: {} }]
          containers:
            - name: run
              image: busybox
              volumeMounts: [{ name: scratch, mountPath: /var/run/hookgate }]`;
    await apply(workflowYaml('mounted', pod));
    const w = await invalid('mounted');
    expect(cond(w, 'Ready')?.status).toBe('False');
    expect(cond(w, 'Ready')?.message).toContain('mountPath');
    expect(cond(w, 'Stalled')?.status).toBe('True');
    // Moving the input elsewhere makes every delivery runnable again.
    await apply(workflowYaml('mounted', pod, '  input: { path: /input/payload.json }'));
    await ready('mounted');
  });

  // Regression: the operator never compiled inputSchema; Ajv threw on every request (500).
  it.each([
    ['an unknown type', '{ type: object, properties: { a: { type: notatype } } }', 'must be equal to one of'],
    [
      'a lookahead RE2 cannot run',
      "{ type: object, properties: { a: { type: string, pattern: '(?=x)' } } }",
      'unsupported Perl syntax',
    ],
    [
      'a draft-07 schema that is wrong',
      `{ $schema: 'http://json-schema.org/draft-07/schema#', type: 7 }`,
      'type',
    ],
  ])(
    "an inputSchema with %s: Stalled InvalidInputSchema with the compiler's message",
    async (_, schema, text) => {
      const name = `schema-${Math.random().toString(36).slice(2, 8)}`;
      await apply(workflowYaml(name, goodPod, `  inputSchema: ${schema}`));
      const w = await invalid(name, 'InvalidInputSchema');
      expect(cond(w, 'Ready')?.status).toBe('False');
      expect(cond(w, 'Ready')?.message).toContain(text);
      expect(cond(w, 'Stalled')?.status).toBe('True');
    },
  );

  it('a valid schema with a pattern is Ready', async () => {
    await apply(
      workflowYaml(
        'schema-ok',
        goodPod,
        "  inputSchema: { type: object, properties: { ref: { type: string, pattern: '^refs/' } } }",
      ),
    );
    await ready('schema-ok');
  });

  it('status reflects runs that complete and fail, with the termination message', async () => {
    await apply(workflowYaml('runs', goodPod));
    const wf = await ready('runs');
    await batch.createNamespacedJob({ namespace: ns.name, body: run(wf, 'runs-ok') });
    await batch.createNamespacedJob({
      namespace: ns.name,
      body: run(wf, 'runs-bad', { exitCode: 3, message: 'disk full' }),
    });
    const w = await waitFor(
      async () => {
        const x = await getWorkflow('runs');
        const done = x.status?.recentRuns?.filter((r) => r.result !== 'Running') ?? [];
        return done.length === 2 && x;
      },
      { what: 'two finished runs in status', timeoutMs: 60_000 },
    );
    const byName = Object.fromEntries((w.status?.recentRuns ?? []).map((r) => [r.name, r]));
    expect(byName['runs-ok']).toMatchObject({
      result: 'Succeeded',
      trigger: 'gh',
      deliveryId: 'delivery-runs-ok',
      startTime: expect.any(String),
      completionTime: expect.any(String),
    });
    expect(byName['runs-bad']).toMatchObject({
      result: 'Failed',
      deliveryId: 'delivery-runs-bad',
      message: 'disk full',
    });
    expect(w.status?.active ?? []).toEqual([]);
    expect(w.status?.lastRunTime).toBeDefined();
    const events = await waitFor(
      async () => {
        const r = await kubectl(['get', 'events.events.k8s.io', '-n', ns.name, '-o', 'json']);
        const items = (JSON.parse(r.stdout).items ?? []) as {
          reason: string;
          note: string;
          regarding: { name: string };
        }[];
        const mine = items.filter((e) => e.regarding.name === 'runs' && e.reason.startsWith('Run'));
        return mine.length >= 2 && mine;
      },
      { what: 'run Events' },
    );
    expect(events.map((e) => e.reason).sort()).toEqual(['RunFailed', 'RunSucceeded']);
    expect(events.find((e) => e.reason === 'RunFailed')?.note).toContain('disk full');
    // The result is published on the Job, where the ingress reads wait-mode answers.
    const bad = await batch.readNamespacedJob({ namespace: ns.name, name: 'runs-bad' });
    expect(JSON.parse(bad.metadata?.annotations?.['hookgate.io/result'] ?? '{}')).toEqual({
      exitCode: 3,
      message: 'disk full',
    });
  });

  it('history limits prune the oldest finished Jobs', async () => {
    await apply(
      workflowYaml('pruned', goodPod, '  successfulRunsHistoryLimit: 1\n  failedRunsHistoryLimit: 1'),
    );
    const wf = await ready('pruned');
    for (const name of ['pruned-1', 'pruned-2', 'pruned-3']) {
      await batch.createNamespacedJob({ namespace: ns.name, body: run(wf, name) });
      // Distinct creation seconds make "oldest" unambiguous.
      await new Promise((r) => setTimeout(r, 1100));
    }
    await batch.createNamespacedJob({
      namespace: ns.name,
      body: run(wf, 'pruned-f1', { exitCode: 1, message: 'x' }),
    });
    await new Promise((r) => setTimeout(r, 1100));
    await batch.createNamespacedJob({
      namespace: ns.name,
      body: run(wf, 'pruned-f2', { exitCode: 1, message: 'y' }),
    });
    const names = await waitFor(
      async () => {
        const jobs = await batch.listNamespacedJob({
          namespace: ns.name,
          labelSelector: 'hookgate.io/workflow=pruned',
        });
        const left = jobs.items
          .filter((j) => !j.metadata?.deletionTimestamp)
          .map((j) => j.metadata!.name!)
          .sort();
        return left.length === 2 && left;
      },
      { what: 'Jobs pruned to the limits', timeoutMs: 60_000 },
    );
    expect(names).toEqual(['pruned-3', 'pruned-f2']);
    const w = await waitFor(
      async () => {
        const x = await getWorkflow('pruned');
        return (
          x.status?.recentRuns?.length === 2 && x.status.recentRuns.every((r) => r.result !== 'Running') && x
        );
      },
      { what: 'status of the kept runs' },
    );
    expect(w.status?.recentRuns?.map((r) => r.name)).toEqual(['pruned-f2', 'pruned-3']);
  });
});
