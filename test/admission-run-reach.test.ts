// Where the ingress may launch runs (issue 20): only in namespaces that opted in, only as a run of a
// live Workflow of that namespace, with that Workflow's ServiceAccount and token mount; and what the
// restricted Pod Security profile adds. The operator keeps the listing the run-owners policy reads;
// the ingress acts with its own ServiceAccount token under the chart's RBAC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConditionType,
  GROUP,
  Reason,
  RUNS_NOT_ENABLED,
  VERSION,
  WORKFLOW,
  WORKFLOW_LISTING_NAME,
  WorkflowSpec,
  workflowEntry,
} from '../api/v1alpha1/index.ts';
import { validationRun } from '../lib/run.ts';
import {
  chartRunNamespaceLabels,
  type Hookgate,
  installChartRbac,
  RELEASE,
  startHookgate,
} from './harness/index.ts';
import {
  clusterInfo,
  kubectl,
  type RunResult,
  serviceAccountKubeconfig,
  useNamespace,
  waitFor,
} from './helpers.ts';

const release = useNamespace('reach-system', { runs: false });
const tenant = useNamespace('reach-app');
const closed = useNamespace('reach-closed', { runs: false });

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are built field by field
type Obj = any;
let hg: Hookgate | undefined;
let ingress: string;

const podSpec = (extra: Obj = {}) => ({
  restartPolicy: 'Never',
  containers: [{ name: 'main', image: 'busybox:1.37' }],
  ...extra,
});
const workflow = (name: string, pod: Obj = {}): Obj => ({
  apiVersion: `${GROUP}/${VERSION}`,
  kind: WORKFLOW.kind,
  metadata: { name },
  spec: { jobTemplate: { spec: { backoffLimit: 0, template: { spec: podSpec(pod) } } } },
});

async function apply(namespace: string, obj: Obj) {
  const r = await kubectl(['apply', '-n', namespace, '-f', '-'], { input: JSON.stringify(obj) });
  expect(r.stderr).toBe('');
}
const uidOf = async (namespace: string, name: string) =>
  (await kubectl(['get', 'workflow', '-n', namespace, name, '-o', 'jsonpath={.metadata.uid}'])).stdout;

/** The ingress's run of a Workflow, exactly as lib/run.ts builds it (then edited), as a server dry run. */
async function launch(namespace: string, wf: Obj, uid: string, edit: (job: Obj) => void = () => {}) {
  const job: Obj = validationRun(namespace, {
    name: wf.metadata.name,
    uid,
    spec: WorkflowSpec.parse(wf.spec),
  });
  edit(job);
  return kubectl(['create', '-n', namespace, '--dry-run=server', '-f', '-'], {
    input: JSON.stringify(job),
    kubeconfig: ingress,
  });
}

function expectRefused(r: RunResult, policy: string, message: string) {
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain(`ValidatingAdmissionPolicy '${RELEASE}-${policy}-${release.name}'`);
  expect(r.stderr).toContain(message);
}

const listing = async (namespace: string): Promise<Record<string, string>> => {
  const r = await kubectl(['get', 'workflowlisting', '-n', namespace, WORKFLOW_LISTING_NAME, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout).spec.workflows ?? {}) : {};
};

const build = workflow('build');
const deploy = workflow('deploy', { serviceAccountName: 'deployer', automountServiceAccountToken: true });

beforeAll(async () => {
  hg = await startHookgate(clusterInfo(), { namespace: release.name });
  ingress = await serviceAccountKubeconfig(release.name, `${RELEASE}-ingress`);
  await apply(tenant.name, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'deployer' } });
  for (const wf of [build, deploy]) await apply(tenant.name, wf);
});
afterAll(async () => {
  await hg?.stop();
});

describe('the operator', () => {
  it('lists each Workflow of a namespace with its uid, ServiceAccount and token mount', async () => {
    const want = {
      build: workflowEntry(await uidOf(tenant.name, 'build'), 'default', false),
      deploy: workflowEntry(await uidOf(tenant.name, 'deploy'), 'deployer', true),
    };
    await waitFor(async () => JSON.stringify(await listing(tenant.name)) === JSON.stringify(want), {
      what: `${WORKFLOW_LISTING_NAME} listing build and deploy`,
    });
  });
});

describe('the ingress', () => {
  it('launches a run of a listed Workflow, as that Workflow runs', async () => {
    await waitFor(
      async () => (await launch(tenant.name, build, await uidOf(tenant.name, 'build'))).code === 0,
      {
        what: 'a run of build admitted',
      },
    );
    const r = await launch(tenant.name, deploy, await uidOf(tenant.name, 'deploy'));
    expect(r.stderr).toBe('');
  });

  const OWNER = 'a run is owned by a live Workflow of its namespace';
  it.each<[string, string, (j: Obj) => void]>([
    [
      'owned by a Workflow uid that does not exist',
      'build',
      (j) => (j.metadata.ownerReferences[0].uid = 'x'),
    ],
    [
      'under another ServiceAccount of the namespace',
      'build',
      (j) => (j.spec.template.spec.serviceAccountName = 'deployer'),
    ],
    [
      'with a token its Workflow does not mount',
      'build',
      (j) => (j.spec.template.spec.automountServiceAccountToken = true),
    ],
    [
      'under the default ServiceAccount instead of its own',
      'deploy',
      (j) => delete j.spec.template.spec.serviceAccountName,
    ],
  ])('may not launch a run %s', async (_what, name, edit) => {
    const wf = name === 'build' ? build : deploy;
    const r = await launch(tenant.name, wf, await uidOf(tenant.name, name), edit);
    expectRefused(r, 'run-owners', OWNER);
  });

  it('may not launch a run of a Workflow once it is deleted (its listing drops it)', async () => {
    const gone = workflow('gone');
    await apply(tenant.name, gone);
    const uid = await uidOf(tenant.name, 'gone');
    await waitFor(async () => (await listing(tenant.name)).gone !== undefined, { what: 'gone listed' });
    await kubectl(['delete', 'workflow', '-n', tenant.name, 'gone']);
    await waitFor(async () => (await listing(tenant.name)).gone === undefined, { what: 'gone unlisted' });
    const r = await waitFor(async () => {
      const out = await launch(tenant.name, gone, uid);
      return out.code !== 0 && out;
    });
    expectRefused(r, 'run-owners', 'Workflow gone uid');
  });

  it('may not launch runs in a namespace that has not opted in, even of a listed Workflow', async () => {
    await apply(closed.name, build);
    const uid = await uidOf(closed.name, 'build');
    await waitFor(async () => (await listing(closed.name)).build !== undefined, { what: 'listed in closed' });
    expectRefused(await launch(closed.name, build, uid), 'runs', `${RUNS_NOT_ENABLED} ${closed.name}`);
  });
});

describe('an opted-in namespace without a Workflow (so without a WorkflowListing)', () => {
  const empty = useNamespace('reach-empty');

  it('admits Jobs that are not hookgate’s (a CronJob’s, a user’s)', async () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'nightly' },
      spec: { template: { spec: podSpec() } },
    };
    const r = await kubectl(['create', '-n', empty.name, '--dry-run=server', '-f', '-'], {
      input: JSON.stringify(job),
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('refuses the ingress a run there: no listed Workflow owns it', async () => {
    const r = await launch(empty.name, build, '00000000-0000-0000-0000-000000000000');
    expectRefused(r, 'run-owners', 'no params found');
  });
});

describe('a Workflow in a namespace that has not opted in', () => {
  const conditions = async (namespace: string, name: string) => {
    const r = await kubectl(['get', 'workflow', '-n', namespace, name, '-o', 'json']);
    const wf = JSON.parse(r.stdout);
    if (wf.status?.observedGeneration !== wf.metadata.generation) return undefined;
    return Object.fromEntries((wf.status?.conditions ?? []).map((c: Obj) => [c.type, c]));
  };

  it('waits (not Stalled) saying how to opt in, and turns Ready once the namespace is labelled', async () => {
    const waiting = await waitFor(async () => {
      const c = await conditions(closed.name, 'build');
      return c?.[ConditionType.Ready]?.reason === Reason.RunsNotEnabled && c;
    });
    expect(waiting[ConditionType.Ready].status).toBe('False');
    expect(waiting[ConditionType.Stalled].status).toBe('False');
    expect(waiting[ConditionType.Reconciling].status).toBe('True');
    const labels = Object.entries(await chartRunNamespaceLabels()).map(([k, v]) => `${k}=${v}`);
    expect(waiting[ConditionType.Ready].message).toContain(
      `kubectl label namespace ${closed.name} ${labels.join(' ')}`,
    );
    await kubectl(['label', 'namespace', closed.name, ...labels]);
    // The operator checks again every 30 s: the label is no event it watches.
    await waitFor(
      async () => (await conditions(closed.name, 'build'))?.[ConditionType.Ready]?.status === 'True',
      {
        what: 'build Ready in the labelled namespace',
        timeoutMs: 60_000,
      },
    );
  });
});

describe('the restricted Pod Security profile (admission.podSecurity=restricted)', () => {
  const strict = useNamespace('reach-strict-system', { runs: false });
  let operator: string;
  let uninstall: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const installed = await installChartRbac(clusterInfo(), strict.name, [
      'admission.podSecurity=restricted',
    ]);
    operator = installed.operator;
    uninstall = installed.uninstall;
  });
  afterAll(() => uninstall?.());

  const restricted = podSpec({
    securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: 'main',
        image: 'busybox:1.37',
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      },
    ],
  });
  /** The operator's dry run of a Workflow's Job, as it validates a Workflow (refusals: Stalled). */
  const dryRun = (pod: Obj) => {
    const job = validationRun(tenant.name, {
      name: 'strict',
      uid: 'u',
      spec: WorkflowSpec.parse(workflow('strict', pod).spec),
    });
    return kubectl(['create', '-n', tenant.name, '--dry-run=server', '-f', '-'], {
      input: JSON.stringify(job),
      kubeconfig: operator,
    });
  };
  const refusedBy = (r: RunResult, message: string) => {
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`ValidatingAdmissionPolicy '${RELEASE}-runs-${strict.name}'`);
    expect(r.stderr).toContain(message);
  };

  it('admits a run that meets it', async () => {
    expect((await dryRun(restricted)).stderr).toBe('');
  });

  const container = (sc: Obj) => ({
    ...restricted,
    containers: [{ ...restricted.containers[0], securityContext: sc }],
  });
  it.each<[string, Obj, string]>([
    [
      'as root (baseline allows it)',
      { ...restricted, securityContext: { seccompProfile: { type: 'RuntimeDefault' } } },
      'runAsNonRoot: true',
    ],
    [
      'with privilege escalation',
      container({ capabilities: { drop: ['ALL'] } }),
      'allowPrivilegeEscalation: false',
    ],
    [
      'keeping capabilities',
      container({ allowPrivilegeEscalation: false }),
      'drops ALL capabilities and adds none but NET_BIND_SERVICE',
    ],
    [
      'adding CHOWN (baseline allows it)',
      container({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['CHOWN'] } }),
      'drops ALL capabilities and adds none but NET_BIND_SERVICE',
    ],
    [
      'without a seccomp profile',
      { ...restricted, securityContext: { runAsNonRoot: true } },
      'seccompProfile of type RuntimeDefault or Localhost',
    ],
    [
      'as user 0 in one container',
      container({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsUser: 0 }),
      'no runAsUser 0',
    ],
    [
      'mounting an NFS volume',
      { ...restricted, volumes: [{ name: 'data', nfs: { server: 'nfs.example', path: '/' } }] },
      'may mount only configMap, csi',
    ],
  ])('refuses a run %s', async (_what, pod, message) => {
    refusedBy(await dryRun(pod), message);
  });
});
