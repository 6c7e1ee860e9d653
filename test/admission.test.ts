// The chart's admission policies (charts/hookgate/templates/admission.yaml, installed by the harness
// as by the chart) against the real API server. The ingress and the operator act with their own
// ServiceAccount tokens under the chart's RBAC; people are impersonated. Every refusal is a real
// create, so without the policy the object would be made and the test would fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Annotations,
  API_VERSION,
  ConditionType,
  GROUP,
  Labels,
  MANAGED_BY,
  Reason,
  VERSION,
  WORKFLOW,
  WORKFLOW_LISTING,
  WORKFLOW_LISTING_NAME,
  workflowEntry,
} from '../api/v1alpha1/index.ts';
import { type Hookgate, installChartRbac, RELEASE, startHookgate } from './harness/index.ts';
import { clusterInfo, kubectl, type RunResult, useNamespace, waitFor } from './helpers.ts';

const release = useNamespace('admission-system');
const tenant = useNamespace('admission-app');
const WF = 'build';

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are built and edited field by field
type Obj = any;

let kubeconfigs: Awaited<ReturnType<typeof installChartRbac>> | undefined;
let workflowUid: string;
let serial = 0;
const runName = () => `deploy-${(++serial).toString(16).padStart(16, '0')}`;

function workflow(name: string): Obj {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: WORKFLOW.kind,
    metadata: { name },
    spec: {
      jobTemplate: {
        spec: {
          template: {
            spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.37' }] },
          },
        },
      },
    },
  };
}

const runLabels = () => ({
  [Labels.managedBy]: MANAGED_BY,
  [Labels.workflow]: WF,
  [Labels.trigger]: 'deploy',
  [Labels.delivery]: 'a'.repeat(63),
});

/** A run's Job as docs/design.md "Runs (Jobs)" describes it. */
function runJob(name = runName()): Obj {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      labels: { ...runLabels(), team: 'a' },
      annotations: { [Annotations.deliveryId]: 'd-1', note: 'from the jobTemplate' },
      ownerReferences: [
        { apiVersion: API_VERSION, kind: WORKFLOW.kind, name: WF, uid: workflowUid, controller: true },
      ],
    },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          containers: [
            { name: 'main', image: 'busybox:1.37', securityContext: { capabilities: { add: ['CHOWN'] } } },
          ],
          volumes: [{ name: 'hookgate-input', secret: { secretName: `${name}-input` } }],
        },
      },
    },
  };
}

function inputSecret(job: string, jobUid: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: `${job}-input`,
      labels: runLabels(),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job, uid: jobUid, controller: true }],
    },
    data: { 'input.json': Buffer.from('{"ref":"main"}').toString('base64') },
  };
}

const edited = (obj: Obj, edit: (o: Obj) => void) => {
  const copy = structuredClone(obj);
  edit(copy);
  return copy;
};

/** `kubectl create` of `obj` by `who` (a kubeconfig path, or an impersonated user); prints the uid. */
function create(
  obj: Obj,
  who: { kubeconfig?: string; as?: string },
  namespace = tenant.name,
  dryRun = false,
) {
  return kubectl(
    [
      'create',
      '-n',
      namespace,
      ...(dryRun ? ['--dry-run=server'] : []),
      ...(who.as ? [`--as=${who.as}`] : []),
      '-o',
      'jsonpath={.metadata.uid}',
      '-f',
      '-',
    ],
    { input: JSON.stringify(obj), kubeconfig: who.kubeconfig },
  );
}

const NOT_A_RUN = 'hookgate: not a run';
const asIngress = () => ({ kubeconfig: kubeconfigs!.ingress });
const asOperator = () => ({ kubeconfig: kubeconfigs!.operator });

function expectAdmitted(r: RunResult) {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

/** Refused by the named policy of this release, with `message`. */
function expectRefused(r: RunResult, policy: 'runs' | 'workflow-authors', message: string) {
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain(`ValidatingAdmissionPolicy '${RELEASE}-${policy}-${release.name}'`);
  expect(r.stderr).toContain(message);
}

afterAll(() => kubeconfigs?.uninstall());

beforeAll(async () => {
  kubeconfigs = await installChartRbac(clusterInfo(), release.name);
  workflowUid = expectAdmitted(await create(workflow(WF), {}));
  // What the operator lists for it, so that the ingress's runs of it are admitted (run-owners policy).
  const listing = {
    apiVersion: API_VERSION,
    kind: WORKFLOW_LISTING.kind,
    metadata: { name: WORKFLOW_LISTING_NAME },
    spec: { workflows: { [WF]: workflowEntry(workflowUid, 'default', false) } },
  };
  const r = await kubectl(['apply', '--server-side', '-n', tenant.name, '-f', '-'], {
    input: JSON.stringify(listing),
    kubeconfig: kubeconfigs.operator,
  });
  expect(r.stderr).toBe('');
});

describe('the ingress', () => {
  it('creates a run: its Job, then the input Secret owned by it', async () => {
    const job = runJob();
    const uid = expectAdmitted(await create(job, asIngress()));
    expectAdmitted(await create(inputSecret(job.metadata.name, uid), asIngress()));
    const got = await kubectl([
      'get',
      'secret',
      '-n',
      tenant.name,
      `${job.metadata.name}-input`,
      '-o',
      'name',
    ]);
    expect(got.stdout.trim()).toBe(`secret/${job.metadata.name}-input`);
  });

  it.each([
    ['in kube-system', 'kube-system', 'hookgate: no runs in namespace kube-system'],
    ['in kube-public', 'kube-public', 'hookgate: no runs in namespace kube-public'],
    ['in its own (release) namespace', 'release', 'hookgate: no runs in namespace admission-system-'],
  ])('may not create a run %s', async (_what, where, message) => {
    const namespace = where === 'release' ? release.name : where;
    expectRefused(await create(runJob(), asIngress(), namespace), 'runs', message);
  });

  const OWNER = 'must have one controller owner, the Workflow named by its hookgate.io/workflow label';
  const BASELINE = 'Pod Security Standards baseline';
  const pod = (j: Obj) => j.spec.template.spec;
  it.each<[string, (j: Obj) => void, string]>([
    ['without hookgate labels', (j) => (j.metadata.labels = { team: 'a' }), NOT_A_RUN],
    ['managed by someone else', (j) => (j.metadata.labels[Labels.managedBy] = 'helm'), NOT_A_RUN],
    ['without a delivery label', (j) => delete j.metadata.labels[Labels.delivery], NOT_A_RUN],
    ['without an owner', (j) => delete j.metadata.ownerReferences, OWNER],
    [
      'owned by something other than a Workflow',
      (j) => Object.assign(j.metadata.ownerReferences[0], { apiVersion: 'apps/v1', kind: 'Deployment' }),
      OWNER,
    ],
    [
      'owned by a Workflow its label does not name',
      (j) => (j.metadata.ownerReferences[0].name = 'other'),
      OWNER,
    ],
    ['whose owner is not its controller', (j) => (j.metadata.ownerReferences[0].controller = false), OWNER],
    [
      'with a second owner',
      (j) =>
        j.metadata.ownerReferences.push({ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: workflowUid }),
      OWNER,
    ],
    [
      'with a privileged container',
      (j) => (pod(j).containers[0].securityContext = { privileged: true }),
      'privileged',
    ],
    [
      'with a privileged init container',
      (j) =>
        (pod(j).initContainers = [
          { name: 'init', image: 'busybox:1.37', securityContext: { privileged: true } },
        ]),
      'privileged',
    ],
    [
      'adding the SYS_ADMIN capability',
      (j) => (pod(j).containers[0].securityContext.capabilities.add = ['CHOWN', 'SYS_ADMIN']),
      'add capabilities',
    ],
    ['on the host network', (j) => (pod(j).hostNetwork = true), "the host's network, PID or IPC namespace"],
    ['in the host PID namespace', (j) => (pod(j).hostPID = true), "the host's network, PID or IPC namespace"],
    ['in the host IPC namespace', (j) => (pod(j).hostIPC = true), "the host's network, PID or IPC namespace"],
    [
      'mounting a hostPath',
      (j) => pod(j).volumes.push({ name: 'root', hostPath: { path: '/' } }),
      'may not mount hostPath volumes',
    ],
    [
      'on a host port',
      (j) => (pod(j).containers[0].ports = [{ containerPort: 80, hostPort: 80 }]),
      'host ports or an unmasked /proc',
    ],
    [
      'without seccomp',
      (j) => (pod(j).securityContext = { seccompProfile: { type: 'Unconfined' } }),
      'Unconfined by seccomp or AppArmor',
    ],
    [
      'without AppArmor (annotation)',
      (j) =>
        (j.spec.template.metadata = {
          annotations: { 'container.apparmor.security.beta.kubernetes.io/main': 'unconfined' },
        }),
      'Unconfined by seccomp or AppArmor',
    ],
    [
      'as an SELinux user',
      (j) => (pod(j).containers[0].securityContext.seLinuxOptions = { user: 'system_u' }),
      'SELinux user or role',
    ],
    [
      'with an unsafe sysctl',
      (j) => (pod(j).securityContext = { sysctls: [{ name: 'kernel.msgmax', value: '65536' }] }),
      BASELINE,
    ],
  ])('may not create a Job %s', async (_what, edit, message) => {
    expectRefused(await create(edited(runJob(), edit), asIngress()), 'runs', message);
  });

  const INPUT_NAME = 'is named <job>-input and has one controller owner, that Job';
  const INPUT_DATA = 'is of type Opaque and holds the key input.json only';
  it.each<[string, (s: Obj) => void, string]>([
    ['with a second data key', (s) => (s.data.token = Buffer.from('x').toString('base64')), INPUT_DATA],
    ['with a second key in stringData', (s) => (s.stringData = { 'other.json': '{}' }), INPUT_DATA],
    ['without input.json', (s) => (s.data = { 'payload.json': s.data['input.json'] }), INPUT_DATA],
    [
      'of type service-account-token',
      (s) => {
        s.type = 'kubernetes.io/service-account-token';
        s.metadata.annotations = { 'kubernetes.io/service-account.name': 'default' };
      },
      INPUT_DATA,
    ],
    ['not named after its Job', (s) => (s.metadata.name = 'other-input'), INPUT_NAME],
    ['without the -input suffix', (s) => (s.metadata.name = s.metadata.ownerReferences[0].name), INPUT_NAME],
    [
      'owned by something other than a Job',
      (s) => (s.metadata.ownerReferences[0].kind = 'CronJob'),
      INPUT_NAME,
    ],
    ['without an owner', (s) => delete s.metadata.ownerReferences, INPUT_NAME],
    ['without hookgate labels', (s) => delete s.metadata.labels, NOT_A_RUN],
  ])('may not create an input Secret %s', async (_what, edit, message) => {
    const secret = edited(inputSecret(runName(), workflowUid), edit);
    expectRefused(await create(secret, asIngress()), 'runs', message);
  });

  it('deletes runs (concurrencyPolicy Replace), and no other Job', async () => {
    const run = runJob();
    expectAdmitted(await create(run, asIngress()));
    const other = edited(runJob(), (j) => {
      j.metadata.labels = { app: 'payroll' };
      delete j.metadata.ownerReferences;
    });
    expectAdmitted(await create(other, {}));
    const del = (name: string) =>
      kubectl(['delete', 'job', '-n', tenant.name, name, '--wait=false'], asIngress());
    expectRefused(await del(other.metadata.name), 'runs', NOT_A_RUN);
    expectAdmitted(await del(run.metadata.name));
  });
});

describe('the operator', () => {
  it('dry-runs a Workflow’s Job, as a run and as it validates today (no owner yet)', async () => {
    expectAdmitted(await create(runJob(), asOperator(), tenant.name, true));
    const validation = edited(runJob(), (j) => {
      j.metadata.name = `${WF}-validate`;
      j.metadata.labels = { [Labels.managedBy]: MANAGED_BY, [Labels.workflow]: WF };
      delete j.metadata.ownerReferences;
    });
    expectAdmitted(await create(validation, asOperator(), tenant.name, true));
  });

  it('may not create a Job for real', async () => {
    expectRefused(
      await create(runJob(), asOperator()),
      'runs',
      'hookgate: the operator only dry-runs Jobs; runs are created by the ingress',
    );
  });

  it('has the dry run of a Job the ingress could not create refused, so the Workflow is Stalled', async () => {
    const privileged = edited(
      runJob(),
      (j) => (j.spec.template.spec.containers[0].securityContext.privileged = true),
    );
    expectRefused(await create(privileged, asOperator(), tenant.name, true), 'runs', 'privileged');
    expectRefused(
      await create(runJob(), asOperator(), 'kube-system', true),
      'runs',
      'hookgate: no runs in namespace kube-system',
    );
  });

  it("writes a run's result annotation, and touches no other Job and no run's spec", async () => {
    const run = runJob();
    const other = edited(runJob(), (j) => {
      j.metadata.labels = { app: 'payroll' };
      delete j.metadata.ownerReferences;
    });
    for (const j of [run, other]) expectAdmitted(await create(j, {}));
    const patch = (name: string, body: Obj) =>
      kubectl(
        ['patch', 'job', '-n', tenant.name, name, '--type=merge', '-p', JSON.stringify(body)],
        asOperator(),
      );
    const result = { metadata: { annotations: { [Annotations.result]: '{"result":"Succeeded"}' } } };
    expectAdmitted(await patch(run.metadata.name, result));
    expectRefused(await patch(other.metadata.name, result), 'runs', NOT_A_RUN);
    expectRefused(
      await patch(run.metadata.name, { spec: { suspend: true } }),
      'runs',
      "hookgate: the operator may change a run's metadata only",
    );
    const del = (name: string) =>
      kubectl(['delete', 'job', '-n', tenant.name, name, '--wait=false'], asOperator());
    expectRefused(await del(other.metadata.name), 'runs', NOT_A_RUN);
    expectAdmitted(await del(run.metadata.name));
  });
});

describe('Workflow authors', () => {
  const roles = (user: string) => `admission-${user}`;
  async function bind(user: string, rules: Obj[]) {
    const name = roles(user);
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name }, rules };
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    };
    for (const o of [role, binding]) expectAdmitted(await create(o, {}));
  }
  const hookgateOnly = [
    {
      apiGroups: [GROUP],
      resources: ['workflows', 'webhooktriggers'],
      verbs: ['get', 'create', 'update', 'patch'],
    },
  ];
  const AUTHOR = `a Workflow runs Jobs in namespace admission-app-`;

  beforeAll(async () => {
    await bind('alice', hookgateOnly);
    await bind('bob', [...hookgateOnly, { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create'] }]);
  });

  it('may not create a Workflow without the right to create Jobs in its namespace', async () => {
    // The binding reaches the API server's admission plugin through a watch: wait for a dry run.
    await waitFor(
      async () => (await create(workflow('alices'), { as: 'alice' }, tenant.name, true)).code !== 0,
      {
        what: 'the workflow-authors policy in force',
      },
    );
    const r = await create(workflow('alices'), { as: 'alice' });
    expectRefused(r, 'workflow-authors', AUTHOR);
    expect(r.stderr).toContain('which alice does not have');
  });

  it('creates a Workflow with the right to create Jobs there', async () => {
    expectAdmitted(await create(workflow('bobs'), { as: 'bob' }));
  });

  it('may edit a Workflow’s metadata without it, but not its spec', async () => {
    expectAdmitted(await create(workflow('shared'), { as: 'bob' }));
    const patch = (body: Obj) =>
      kubectl([
        'patch',
        'workflow',
        '-n',
        tenant.name,
        'shared',
        '--as=alice',
        '--type=merge',
        '-p',
        JSON.stringify(body),
      ]);
    expectAdmitted(await patch({ metadata: { labels: { reviewed: 'yes' } } }));
    const privileged = {
      spec: { jobTemplate: { spec: { template: { spec: { serviceAccountName: 'deployer' } } } } },
    };
    expectRefused(await patch(privileged), 'workflow-authors', AUTHOR);
  });
});

describe('a Workflow the policy refuses to run', () => {
  let hg: Hookgate | undefined;
  beforeAll(async () => {
    hg = await startHookgate(clusterInfo(), { namespace: release.name });
  });
  afterAll(async () => {
    await hg?.stop();
  });

  async function settled(name: string) {
    return waitFor(
      async () => {
        const r = await kubectl(['get', 'workflow', '-n', tenant.name, name, '-o', 'json']);
        const wf = JSON.parse(r.stdout);
        const conditions = Object.fromEntries((wf.status?.conditions ?? []).map((c: Obj) => [c.type, c]));
        return wf.status?.observedGeneration === wf.metadata.generation && conditions;
      },
      { what: `workflow ${name} reconciled` },
    );
  }

  it('is Stalled when it is written, with the policy’s message; one it allows is Ready', async () => {
    const host = edited(
      workflow('host-network'),
      (w) => (w.spec.jobTemplate.spec.template.spec.hostNetwork = true),
    );
    for (const w of [host, workflow('plain')]) expectAdmitted(await create(w, {}));
    const refused = await settled('host-network');
    expect(refused[ConditionType.Ready]).toMatchObject({
      status: 'False',
      reason: Reason.InvalidJobTemplate,
    });
    expect(refused[ConditionType.Stalled]).toMatchObject({ status: 'True' });
    expect(refused[ConditionType.Ready].message).toContain("hookgate: runs may not use the host's network");
    expect((await settled('plain'))[ConditionType.Ready]).toMatchObject({ status: 'True' });
  });
});

afterAll(async () => {
  // Cluster-scoped: they outlive the namespace.
  const name = (p: string) => `${RELEASE}-${p}-${release.name}`;
  for (const p of ['runs', 'run-owners', 'trigger-authors', 'workflow-authors']) {
    await kubectl([
      'delete',
      'validatingadmissionpolicybinding,validatingadmissionpolicy',
      name(p),
      '--ignore-not-found',
    ]);
  }
});
