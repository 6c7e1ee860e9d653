// GitOps health of WebhookTriggers and Workflows that the real operator (a process under the
// chart's RBAC) drove into each state: kstatus (sigs.k8s.io/cli-utils, what Flux's `wait: true`
// computes) and Argo CD's health (deploy/argocd's health.lua on gopher-lua) of each live object,
// as the README's table promises. Each live object is also the fixture its Argo CD health test
// reads (deploy/argocd/resource_customizations/hookgate.io/<Kind>/testdata/<state>.yaml): the
// fixtures are what the operator writes, and a change to what it writes fails here until they are
// captured again with HOOKGATE_UPDATE_FIXTURES=1.
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { Condition } from '../api/v1alpha1/index.ts';
import { kubectl, runBinary, useHookgate, useNamespace, waitFor } from './helpers.ts';
import { applyObjects, triggerObject, workflowObject } from './objects.test-helper.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CUSTOMIZATIONS = join(ROOT, 'deploy/argocd/resource_customizations/hookgate.io');
const UPDATE = process.env.HOOKGATE_UPDATE_FIXTURES === '1';
const HOLD = 'test.hookgate.io/hold';

const app = useNamespace('gitops');
const running = useHookgate('gitops', () => ({ operatorArgs: [`--namespaces=${app.name}`] }));

// biome-ignore lint/suspicious/noExplicitAny: live objects are read field by field
type Obj = any;
type Kind = 'Workflow' | 'WebhookTrigger';
const RESOURCE: Record<Kind, string> = {
  Workflow: 'workflows.hookgate.io',
  WebhookTrigger: 'webhooktriggers.hookgate.io',
};

const workflow = (name: string, restartPolicy = 'Never') => workflowObject(name, { pod: { restartPolicy } });
const trigger = (name: string, workflowRef: string, suspend = false) =>
  triggerObject(name, workflowRef, { spec: { suspend } });
const held = (obj: Obj) => ({ ...obj, metadata: { ...obj.metadata, finalizers: [HOLD] } });

const apply = (...objects: object[]) => applyObjects(app.name, objects);

async function get(kind: Kind, name: string): Promise<Obj> {
  const r = await kubectl(['get', RESOURCE[kind], name, '-n', app.name, '-o', 'json']);
  if (r.code !== 0) throw new Error(`kubectl get: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const cond = (o: Obj, type: string): Condition | undefined =>
  o.status?.conditions?.find((c: Condition) => c.type === type);
const observed = (o: Obj) => o.status?.observedGeneration === o.metadata.generation;

/** Waits until the live object satisfies `until`, and returns it. */
const reach = (kind: Kind, name: string, until: (o: Obj) => unknown) =>
  waitFor(
    async () => {
      const o = await get(kind, name);
      if (!until(o)) throw new Error(`status ${JSON.stringify(o.status)}`);
      return o;
    },
    { what: `${kind} ${name}` },
  );

// ---------------------------------------------------------------------------------------------
// Fixtures: live objects without what differs from run to run

const FIXED_TIME = '2026-01-01T00:00:00Z';
const TIMESTAMP = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g;

/** Text as it reads in a fixture: example URL, namespace `demo`, one fixed time. */
function fixtureText(s: string): string {
  return s
    .replaceAll(running.hg.url, 'https://hooks.example.com')
    .replaceAll(app.name, 'demo')
    .replace(TIMESTAMP, FIXED_TIME);
}

function fixtureValue(v: unknown): unknown {
  if (typeof v === 'string') return fixtureText(v);
  if (Array.isArray(v)) return v.map(fixtureValue);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fixtureValue(x)]));
  return v;
}

function asFixture(live: Obj): Obj {
  const { uid, resourceVersion, creationTimestamp, managedFields, ...metadata } = live.metadata;
  const obj = fixtureValue({ ...live, metadata }) as Obj;
  if (obj.status?.tokenPrefix) obj.status.tokenPrefix = 'hgt_AAAA';
  return obj;
}

const HEADER =
  '# Captured from a live object by test/gitops-health.test.ts (HOOKGATE_UPDATE_FIXTURES=1 captures again).\n';

async function checkFixture(kind: Kind, state: string, live: Obj) {
  const path = join(CUSTOMIZATIONS, kind, 'testdata', `${state}.yaml`);
  const want = asFixture(live);
  if (UPDATE) await writeFile(path, HEADER + stringify(want, { lineWidth: 0 }));
  const have = parse(await readFile(path, 'utf8').catch(() => 'missing: true'));
  expect(have, `${path} differs from the live object (HOOKGATE_UPDATE_FIXTURES=1 captures it again)`).toEqual(
    want,
  );
}

// ---------------------------------------------------------------------------------------------
// What kstatus and Argo CD say of a live object, and what the README and health_test.yaml promise

async function tool(name: string, args: string[], live: Obj): Promise<Obj> {
  const r = await runBinary(name, args, JSON.stringify(live));
  if (r.code !== 0) throw new Error(`${name}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
const kstatus = (live: Obj) => tool('kstatus', [], live);
const argoHealth = (kind: Kind, live: Obj) =>
  tool('argocd-lua', ['health', join(CUSTOMIZATIONS, kind, 'health.lua')], live);

/** health_test.yaml's verdict for testdata/<state>.yaml. */
async function argoVerdict(kind: Kind, state: string) {
  const tests = parse(await readFile(join(CUSTOMIZATIONS, kind, 'health_test.yaml'), 'utf8')).tests as Obj[];
  return tests.find((t) => t.inputPath === `testdata/${state}.yaml`)?.healthStatus;
}

/** The README's "GitOps health" table: state → { kstatus, argo }. */
async function readmePromises(): Promise<Map<string, { kstatus: string; argo: string }>> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## GitOps health'));
  const rows = new Map<string, { kstatus: string; argo: string }>();
  for (const line of section.split('\n').slice(1)) {
    if (line.startsWith('## ')) break;
    const cells = line.split('|').map((c) => c.trim());
    const state = cells[1]?.match(/^`([a-z-]+)`$/)?.[1];
    if (state)
      rows.set(state, { kstatus: cells[4]!.replaceAll('`', ''), argo: cells[5]!.replaceAll('`', '') });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Driving the operator into each state

/** Jobs of Workflow `progressing` fail admission with an API server error: its dry run cannot pass. */
const blocker = () => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingWebhookConfiguration',
  metadata: { name: `hookgate-test-${app.name}` },
  webhooks: [
    {
      name: 'unreachable.test.hookgate.io',
      clientConfig: { url: 'https://127.0.0.1:1/unreachable' },
      rules: [{ apiGroups: ['batch'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['jobs'] }],
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': app.name } },
      objectSelector: { matchLabels: { 'hookgate.io/workflow': 'progressing' } },
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      failurePolicy: 'Fail',
      timeoutSeconds: 2,
    },
  ],
});

async function blockProgressing() {
  const r = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(blocker()) });
  expect(r.code, r.stderr).toBe(0);
  // A webhook is called a moment after its configuration is written: probe until it is.
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'probe', labels: { 'hookgate.io/workflow': 'progressing' } },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'none' }] } } },
  };
  await waitFor(
    async () => {
      const d = await kubectl(['create', '--dry-run=server', '-n', app.name, '-f', '-'], {
        input: JSON.stringify(job),
      });
      return d.stderr.includes('failed calling webhook');
    },
    { what: 'the webhook to refuse Jobs of Workflow progressing' },
  );
}

const captured = new Map<string, Obj>();
const capture = (kind: Kind, state: string, live: Obj) => captured.set(`${kind}/${state}`, live);

beforeAll(async () => {
  await blockProgressing();
  await apply(
    workflow('healthy'),
    workflow('stalled', 'Always'),
    workflow('progressing'),
    held(workflow('deleting')),
    workflow('stale-generation'),
    trigger('healthy', 'healthy'),
    trigger('suspended', 'healthy', true),
    trigger('stalled', 'missing'),
    trigger('progressing', 'progressing'),
    held(trigger('deleting', 'healthy')),
    trigger('stale-generation', 'healthy'),
  );
  const ready = (reason: string) => (o: Obj) => observed(o) && cond(o, 'Ready')?.reason === reason;
  const isTrue = (type: string) => (o: Obj) => observed(o) && cond(o, type)?.status === 'True';
  for (const kind of ['Workflow', 'WebhookTrigger'] as const) {
    capture(kind, 'healthy', await reach(kind, 'healthy', ready('Succeeded')));
    capture(kind, 'stalled', await reach(kind, 'stalled', isTrue('Stalled')));
    capture(
      kind,
      'progressing',
      await reach(kind, 'progressing', (o) => cond(o, 'Reconciling')?.status === 'True'),
    );
    await reach(kind, 'deleting', ready('Succeeded'));
    await reach(kind, 'stale-generation', ready('Succeeded'));
    const del = await kubectl(['delete', RESOURCE[kind], 'deleting', '-n', app.name, '--wait=false']);
    expect(del.code, del.stderr).toBe(0);
    capture(kind, 'deleting', await reach(kind, 'deleting', (o) => o.metadata.deletionTimestamp));
  }
  capture('WebhookTrigger', 'suspended', await reach('WebhookTrigger', 'suspended', ready('Suspended')));

  // With the operator stopped: a spec change it has not seen, and objects it has never seen.
  await running.hg.operator.stop();
  await apply(
    { ...workflow('stale-generation'), spec: { ...workflow('x').spec, successfulRunsHistoryLimit: 5 } },
    {
      ...trigger('stale-generation', 'healthy'),
      spec: { ...trigger('x', 'healthy').spec, maxBodyBytes: 4096 },
    },
    workflow('unobserved'),
    trigger('unobserved', 'unobserved'),
  );
  for (const kind of ['Workflow', 'WebhookTrigger'] as const) {
    capture(
      kind,
      'stale-generation',
      await reach(kind, 'stale-generation', (o) => o.metadata.generation === 2),
    );
    capture(kind, 'unobserved', await reach(kind, 'unobserved', (o) => o));
  }
  await running.hg.startOperator();
}, 240_000);

afterAll(async () => {
  await kubectl([
    'delete',
    'validatingwebhookconfiguration',
    `hookgate-test-${app.name}`,
    '--ignore-not-found',
  ]);
  for (const kind of ['Workflow', 'WebhookTrigger'] as const)
    await kubectl([
      'patch',
      RESOURCE[kind],
      'deleting',
      '-n',
      app.name,
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":null}}',
    ]);
});

// ---------------------------------------------------------------------------------------------

const STATES: [Kind, string][] = [
  ...(['unobserved', 'stale-generation', 'progressing', 'healthy', 'stalled', 'deleting'] as const).flatMap(
    (s) =>
      [
        ['Workflow', s],
        ['WebhookTrigger', s],
      ] as [Kind, string][],
  ),
  ['WebhookTrigger', 'suspended'],
];

describe.each(STATES)('%s %s', (kind, state) => {
  it('is the fixture its Argo CD health test reads', async () => {
    await checkFixture(kind, state, captured.get(`${kind}/${state}`));
  });

  it("is what health_test.yaml says Argo CD shows, on Argo CD's Lua engine", async () => {
    const live = captured.get(`${kind}/${state}`);
    const got = await argoHealth(kind, live);
    expect({ ...got, message: fixtureText(got.message ?? '') }).toEqual(await argoVerdict(kind, state));
  });

  it('is what the README promises to kstatus (Flux) and Argo CD', async () => {
    const live = captured.get(`${kind}/${state}`);
    const promise = (await readmePromises()).get(state);
    expect(promise, `README "GitOps health" has no row for \`${state}\``).toBeDefined();
    expect((await kstatus(live)).status).toBe(promise!.kstatus);
    expect((await argoHealth(kind, live)).status).toBe(promise!.argo);
  });
});

describe('once the operator is back', () => {
  it('catches up: objects it had not seen, or not seen since their spec changed, become Current', async () => {
    for (const kind of ['Workflow', 'WebhookTrigger'] as const) {
      for (const name of ['stale-generation', 'unobserved']) {
        const live = await reach(kind, name, (o) => observed(o) && cond(o, 'Ready')?.status === 'True');
        expect((await kstatus(live)).status, `${kind} ${name}`).toBe('Current');
        expect((await argoHealth(kind, live)).status, `${kind} ${name}`).toBe('Healthy');
      }
    }
  });
});
