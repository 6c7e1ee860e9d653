// Who may write a WebhookTrigger (the chart's trigger-authors policy, issue 20): the right to create
// Jobs in its namespace, and to get every Secret (ConfigMap) its spec references, which the operator
// reads for it. People are impersonated (kubectl --as) against the real API server; every refusal is
// a real create or patch, so without the policy the object would be written and the test would fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigMapKeyRef, celNames, GROUP, referencePaths, SecretKeyRef } from '../api/v1alpha1/index.ts';
import { installChartRbac, RELEASE } from './harness/index.ts';
import { clusterInfo, kubectl, type RunResult, useNamespace, waitFor } from './helpers.ts';

const release = useNamespace('authors-system', { runs: false });
const tenant = useNamespace('authors-app');

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are built field by field
type Obj = any;
let uninstall: (() => Promise<void>) | undefined;

const trigger = (name: string, auth: Obj): Obj => ({
  apiVersion: `${GROUP}/v1alpha1`,
  kind: 'WebhookTrigger',
  metadata: { name },
  spec: { workflowRef: { name: 'build' }, auth },
});
const ref = (name: string) => ({ secretRef: { name, key: 'token' } });

function write(verb: 'create' | 'apply', obj: Obj, as?: string) {
  const args = verb === 'create' ? ['create'] : ['apply', '--server-side', '--force-conflicts'];
  return kubectl([...args, '-n', tenant.name, ...(as ? [`--as=${as}`] : []), '-f', '-'], {
    input: JSON.stringify(obj),
  });
}

function expectRefused(r: RunResult, message: string) {
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain(`ValidatingAdmissionPolicy '${RELEASE}-trigger-authors-${release.name}'`);
  expect(r.stderr).toContain(message);
}

const exists = async (name: string) =>
  (await kubectl(['get', 'webhooktrigger', '-n', tenant.name, name, '-o', 'name'])).code === 0;

async function bind(user: string, rules: Obj[]) {
  const name = `authors-${user}`;
  const objs = [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name }, rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    },
  ];
  for (const o of objs) expect((await write('create', o)).stderr).toBe('');
}

const hookgateOnly = [
  { apiGroups: [GROUP], resources: ['webhooktriggers'], verbs: ['get', 'create', 'update', 'patch'] },
];
const JOBS = 'a WebhookTrigger starts Jobs in namespace authors-app-';

beforeAll(async () => {
  ({ uninstall } = await installChartRbac(clusterInfo(), release.name));
  await bind('alice', hookgateOnly);
  await bind('bob', [
    ...hookgateOnly,
    { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create'] },
    { apiGroups: [''], resources: ['secrets'], resourceNames: ['bobs-token'], verbs: ['get'] },
  ]);
  // A Secret whose value is public (as a ServiceAccount token Secret's `namespace` key is): bob may
  // not read it, so he must not be able to make it a trigger's key.
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'public-ish' },
    stringData: { token: 'x' },
  };
  expect((await write('create', secret)).stderr).toBe('');
  // The binding reaches the API server's admission plugin through a watch: wait for a dry run.
  await waitFor(
    async () => {
      const args = ['create', '-n', tenant.name, '--dry-run=server', '--as=alice', '-f', '-'];
      return (await kubectl(args, { input: JSON.stringify(trigger('probe', { bearer: {} })) })).code !== 0;
    },
    { what: 'the trigger-authors policy in force' },
  );
});
afterAll(async () => {
  await uninstall?.();
});

describe('WebhookTrigger authors', () => {
  it('may not create a trigger without the right to create Jobs in its namespace', async () => {
    const r = await write('create', trigger('alices', { bearer: {} }), 'alice');
    expectRefused(r, JOBS);
    expect(r.stderr).toContain('which alice does not have');
    expect(await exists('alices')).toBe(false);
  });

  it('creates one with that right, with generated credentials or a Secret they may read', async () => {
    expect((await write('create', trigger('generated', { bearer: {} }), 'bob')).stderr).toBe('');
    const own = trigger('own', {
      bearer: ref('bobs-token'),
      signature: { scheme: 'github', ...ref('bobs-token') },
    });
    expect((await write('create', own, 'bob')).stderr).toBe('');
  });

  it.each<[string, Obj, string, string]>([
    ['as its bearer token', { bearer: ref('public-ish') }, 'public-ish', 'spec.auth.bearer.secretRef'],
    [
      'as its signing secret',
      { signature: { scheme: 'github', ...ref('public-ish') } },
      'public-ish',
      'spec.auth.signature.secretRef',
    ],
    [
      'beside one they may read',
      { bearer: ref('bobs-token'), signature: { scheme: 'hmac-sha256', ...ref('public-ish') } },
      'public-ish',
      'spec.auth.signature.secretRef',
    ],
    // The same answer as for one that exists: admission tells nothing about what bob may not read.
    [
      'that does not exist',
      { bearer: ref('no-such-secret') },
      'no-such-secret',
      'spec.auth.bearer.secretRef',
    ],
  ])('may not reference a Secret they may not get, %s', async (_what, auth, secret, path) => {
    const r = await write('create', trigger('borrowed', auth), 'bob');
    expectRefused(r, `the operator reads Secret ${secret} (${path}) for this WebhookTrigger`);
    expect(r.stderr).toContain('needs the right to get that Secret, which bob does not have');
    expect(await exists('borrowed')).toBe(false);
  });

  it('may not point an existing trigger at such a Secret, but may edit its metadata (a rotation)', async () => {
    // An administrator's trigger that references the Secret bob may not read.
    expect((await write('create', trigger('admins', { bearer: ref('public-ish') }))).stderr).toBe('');
    const annotate = await kubectl([
      ...['annotate', 'webhooktrigger', '-n', tenant.name, 'admins', 'hookgate.io/rotate=1'],
      '--as=bob',
    ]);
    expect(annotate.stderr).toBe('');
    const mine = trigger('own', { bearer: ref('public-ish') });
    expectRefused(await write('apply', mine, 'bob'), 'the operator reads Secret public-ish');
    const patch = await kubectl([
      ...['patch', 'webhooktrigger', '-n', tenant.name, 'own', '--type=merge', '--as=bob'],
      ...['-p', JSON.stringify({ spec: { suspend: true } })],
    ]);
    expect(patch.stderr).toBe('');
  });
});

describe('the CEL the chart gets for references in lists and maps', () => {
  // The generator's output for every shape a reference can sit in, evaluated by the real API server:
  // a throwaway policy on Workflows (whose Job spec keeps unknown fields) prints what it finds.
  const schema = z.object({
    jobTemplate: z.object({
      spec: z.object({
        one: z.object({ secretRef: SecretKeyRef.optional() }).optional(),
        list: z.array(
          z.object({ secretRef: SecretKeyRef, keys: z.array(z.object({ configMapRef: ConfigMapKeyRef })) }),
        ),
        map: z.record(z.string(), z.object({ secretRef: SecretKeyRef })),
      }),
    }),
  });
  const name = `authors-cel-${Math.random().toString(16).slice(2, 8)}`;
  afterAll(() =>
    kubectl([
      'delete',
      'validatingadmissionpolicy,validatingadmissionpolicybinding',
      name,
      '--ignore-not-found',
    ]),
  );

  it('finds every name', async () => {
    const paths = referencePaths(schema);
    const show = `'secrets=' + (${celNames(paths, 'Secret')}).join(',') + ' configmaps=' + (${celNames(paths, 'ConfigMap')}).join(',')`;
    const policy = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            { apiGroups: [GROUP], apiVersions: ['*'], resources: ['workflows'], operations: ['CREATE'] },
          ],
        },
        matchConditions: [{ name: 'probe', expression: `object.metadata.name == '${name}'` }],
        validations: [{ expression: 'false', messageExpression: show }],
      },
    };
    const binding = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name },
      spec: { policyName: name, validationActions: ['Deny'] },
    };
    for (const o of [policy, binding]) expect((await write('create', o)).stderr).toBe('');
    const s = (n: string) => ({ secretRef: { name: n, key: 'k' } });
    const workflow = {
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'Workflow',
      metadata: { name },
      spec: {
        jobTemplate: {
          spec: {
            template: {},
            one: s('s1'),
            list: [
              {
                ...s('s2'),
                keys: [
                  { configMapRef: { name: 'c1', key: 'k' } },
                  { configMapRef: { name: 'c2', key: 'k' } },
                ],
              },
              { ...s('s3'), keys: [] },
            ],
            map: { x: s('s4'), y: s('s5') },
          },
        },
      },
    };
    const r = await waitFor(async () => {
      const args = ['create', '-n', tenant.name, '--dry-run=server', '-f', '-'];
      const out = await kubectl(args, { input: JSON.stringify(workflow) });
      return out.stderr.includes('secrets=') && out;
    });
    const found = /secrets=(\S*) configmaps=(\S*)/.exec(r.stderr)!;
    expect(found[1]!.split(',').sort()).toEqual(['s1', 's2', 's3', 's4', 's5']);
    expect(found[2]!.split(',').sort()).toEqual(['c1', 'c2']);
  });
});
