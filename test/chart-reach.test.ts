// What the chart lets the components reach (issue 20), installed into the local control plane and
// asked with `kubectl auth can-i`: with watchNamespaces the operator's Secret rights stop at the
// namespaces it serves; the only WorkflowListing it may write is each namespace's own, which it never
// reads; and the admission policies confine runs to what watchNamespaces names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOW_LISTING_NAME } from '../api/v1alpha1/index.ts';
import { CHART, findOne, type Obj, renderValues } from './chart.test-helper.ts';
import { clusterInfo, kubectl, runBinary, useNamespace } from './helpers.ts';

const render = renderValues;
describe('helm template', () => {
  it('grants the operator one WorkflowListing by name, create and patch only (a server-side apply, never a read)', async () => {
    for (const values of [{}, { watchNamespaces: ['team-a'] }]) {
      const roles = (await render(values)).filter((o) => ['ClusterRole', 'Role'].includes(o.kind));
      const rules = roles
        .filter((r) => r.metadata.name.startsWith('hg-hookgate-'))
        .flatMap((r) => r.rules)
        .filter((r: Obj) => r.resources.some((x: string) => ['configmaps', 'workflowlistings'].includes(x)));
      expect(rules).toEqual([
        {
          apiGroups: ['hookgate.io'],
          resources: ['workflowlistings'],
          resourceNames: [WORKFLOW_LISTING_NAME],
          verbs: ['create', 'patch'],
        },
      ]);
    }
  });

  it('with watchNamespaces, confines runs to them by name (no label asked), and checks owners there only', async () => {
    const objs = await render({ watchNamespaces: ['team-a', 'team-b'] });
    const runs = findOne(objs, 'ValidatingAdmissionPolicy', 'hg-hookgate-runs-hookgate-system');
    const rules = runs.spec.validations.map((v: Obj) => v.expression).join('\n');
    expect(rules).toContain('request.namespace in ["team-a","team-b"]');
    expect(rules).not.toContain('namespaceObject');
    const owners = findOne(
      objs,
      'ValidatingAdmissionPolicyBinding',
      'hg-hookgate-run-owners-hookgate-system',
    );
    expect(owners.spec.paramRef).toEqual({ name: WORKFLOW_LISTING_NAME, parameterNotFoundAction: 'Deny' });
    expect(owners.spec.matchResources.namespaceSelector.matchExpressions).toContainEqual({
      key: 'kubernetes.io/metadata.name',
      operator: 'In',
      values: ['team-a', 'team-b'],
    });
  });

  it('without it, asks for the opt-in labels, in the policy and in the owners binding', async () => {
    const objs = await render({ admission: { runNamespaceLabels: { 'example.com/tenant': 'yes' } } });
    const runs = findOne(objs, 'ValidatingAdmissionPolicy', 'hg-hookgate-runs-hookgate-system');
    const optIn = runs.spec.validations.find((v: Obj) => v.expression.includes('namespaceObject'));
    expect(optIn.expression).toContain(
      "namespaceObject.metadata.?labels[?'example.com/tenant'] == optional.of('yes')",
    );
    // Helm merges maps: the default label stays asked for unless set to null.
    expect(optIn.expression).toContain("'hookgate.io/runs'");
    const replaced = await render({
      admission: { runNamespaceLabels: { 'hookgate.io/runs': null, 'example.com/tenant': 'yes' } },
    });
    const only = findOne(replaced, 'ValidatingAdmissionPolicy', 'hg-hookgate-runs-hookgate-system');
    expect(only.spec.validations.map((v: Obj) => v.expression).join('\n')).not.toContain('hookgate.io/runs');
    const owners = findOne(
      objs,
      'ValidatingAdmissionPolicyBinding',
      'hg-hookgate-run-owners-hookgate-system',
    );
    expect(owners.spec.matchResources.namespaceSelector.matchLabels).toEqual({
      'example.com/tenant': 'yes',
      'hookgate.io/runs': 'enabled',
    });
  });
});

describe('helm install with watchNamespaces', () => {
  const system = useNamespace('reach-chart', { runs: false });
  const watched = useNamespace('reach-watched');
  const other = useNamespace('reach-other');
  const kubeconfig = () => `--kubeconfig=${clusterInfo().kubeconfigPath}`;

  beforeAll(async () => {
    const values = { crds: { enabled: false }, watchNamespaces: [watched.name] };
    const r = await runBinary(
      'helm',
      ['install', 'hgr', CHART, '-n', system.name, kubeconfig(), '-f', '-'],
      JSON.stringify(values),
    );
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => runBinary('helm', ['uninstall', 'hgr', '-n', system.name, kubeconfig()]));

  async function can(verb: string, what: string, where: string) {
    const scope = where === 'all' ? ['--all-namespaces'] : ['-n', where];
    const r = await kubectl([
      ...['auth', 'can-i', verb, what, ...scope],
      `--as=system:serviceaccount:${system.name}:hgr-hookgate-operator`,
    ]);
    expect(r.stdout.trim(), r.stderr).toMatch(/^(yes|no)$/);
    return r.stdout.trim() === 'yes';
  }

  it("keeps the operator's Secret rights to the namespaces it serves (and its own)", async () => {
    for (const verb of ['get', 'list', 'watch', 'create', 'patch']) {
      expect(await can(verb, 'secrets', watched.name), `${verb} secrets in the watched namespace`).toBe(true);
      for (const where of ['kube-system', other.name, 'all'])
        expect(await can(verb, 'secrets', where), `${verb} secrets in ${where}`).toBe(false);
    }
    expect(await can('list', 'secrets', system.name)).toBe(true);
  });

  it('lets it write the Workflow listing of the namespaces it serves, and nothing else of the kind', async () => {
    const listing = `workflowlisting.hookgate.io/${WORKFLOW_LISTING_NAME}`;
    expect(await can('patch', listing, watched.name)).toBe(true);
    expect(await can('create', listing, watched.name)).toBe(true);
    expect(await can('get', listing, watched.name)).toBe(false);
    expect(await can('patch', 'workflowlisting.hookgate.io/other', watched.name)).toBe(false);
    expect(await can('create', 'workflowlistings.hookgate.io', watched.name)).toBe(false);
    expect(await can('patch', listing, other.name)).toBe(false);
    expect(await can('patch', listing, 'kube-system')).toBe(false);
    expect(await can('patch', 'configmaps', watched.name)).toBe(false);
  });
});
