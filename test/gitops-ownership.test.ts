// What the operator and the ingress generate (credentials and route Secrets, a run's Job and input
// Secret) carries none of the GitOps tracking of the objects it comes from, so Argo CD and Flux never
// count it as theirs and never prune it; a run's Job carries the jobTemplate's own metadata, which is
// how docs/gitops.md tells Argo CD users to mark runs (IgnoreExtraneous, Prune=false).
import { beforeAll, describe, expect, it } from 'vitest';
import { kubectl, secretsLabelled, useHookgate, useNamespace } from './helpers.ts';
import { applyObjects, triggerObject, waitForReady, workflowObject } from './objects.test-helper.ts';

const app = useNamespace('gitops-owned');
const running = useHookgate('owned', () => ({ operatorArgs: [`--namespaces=${app.name}`] }));
const { system } = running;

// biome-ignore lint/suspicious/noExplicitAny: objects are read field by field
type Obj = any;

/** What Argo CD (label or annotation tracking) and Flux (kustomize-controller) put on what they apply. */
const TRACKING = {
  labels: {
    'app.kubernetes.io/instance': 'payments',
    'kustomize.toolkit.fluxcd.io/name': 'payments-webhooks',
  },
  annotations: { 'argocd.argoproj.io/tracking-id': 'payments:hookgate.io/WebhookTrigger:x/owned' },
};
const RUN_MARKS = {
  'argocd.argoproj.io/compare-options': 'IgnoreExtraneous',
  'argocd.argoproj.io/sync-options': 'Prune=false',
};
const tracked = (o: Obj) =>
  Object.keys({ ...o.metadata.labels, ...o.metadata.annotations }).filter(
    (k) => k.startsWith('argocd.argoproj.io/tracking') || k in TRACKING.labels || k.includes('fluxcd.io'),
  );

async function get(what: string, name: string, namespace = app.name): Promise<Obj> {
  const r = await kubectl(['get', what, name, '-n', namespace, '-o', 'json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  await applyObjects(app.name, [
    workflowObject('owned', { metadata: TRACKING, jobMetadata: { annotations: RUN_MARKS } }),
    triggerObject('owned', 'owned', { metadata: TRACKING }),
  ]);
  await waitForReady(app.name, 'owned');
}, 180_000);

describe('objects hookgate generates', () => {
  it("the credentials Secret: owned by its trigger, none of the trigger's tracking", async () => {
    const trigger = await get('webhooktriggers.hookgate.io', 'owned');
    const secret = await get('secret', 'owned-credentials');
    expect(tracked(trigger).length).toBe(3);
    expect(tracked(secret)).toEqual([]);
    expect(secret.metadata.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'WebhookTrigger',
        name: 'owned',
        uid: trigger.metadata.uid,
        controller: true,
      }),
    ]);
  });

  it("the route Secret in hookgate's namespace: none of the trigger's tracking", async () => {
    const [route, ...more] = await secretsLabelled(system, 'hookgate.io/trigger=owned');
    expect(more).toEqual([]);
    expect(tracked(route)).toEqual([]);
  });

  it("a run's Job carries the jobTemplate's marks and not the Workflow's tracking; its input Secret neither", async () => {
    const token = Buffer.from((await get('secret', 'owned-credentials')).data.token, 'base64').toString();
    const res = await fetch(`${running.hg.url}/hooks/${app.name}/owned`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(202);
    const { run } = (await res.json()) as { run: string };
    const job = await get('job', run);
    expect(job.metadata.annotations).toMatchObject(RUN_MARKS);
    expect(tracked(job)).toEqual([]);
    expect(tracked(await get('secret', `${run}-input`))).toEqual([]);
  });
});
