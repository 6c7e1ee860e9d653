// The Helm chart installed for real into the local control plane: every object accepted, the RBAC
// of each ServiceAccount checked with `kubectl auth can-i` (docs/design.md "RBAC"), the admission
// policies enforced. What `helm template` renders is test/chart-template.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CHART, helm, type Obj } from './chart.test-helper.ts';
import { clusterInfo, kubectl, useNamespace, waitFor } from './helpers.ts';

describe('helm install into the local control plane', () => {
  const release = useNamespace('chart');
  const app = useNamespace('chart-app');
  const scoped = useNamespace('chart-scoped');
  const watched = useNamespace('chart-watched');
  const kubeconfig = () => clusterInfo().kubeconfigPath;
  const installed: [string, string][] = [];

  async function install(name: string, namespace: string, values: object) {
    const r = await helm(
      ['install', name, CHART, '-n', namespace, `--kubeconfig=${kubeconfig()}`, '-f', '-'],
      JSON.stringify(values),
    );
    expect(r.code, r.stderr).toBe(0);
    installed.push([name, namespace]);
    return r.stdout;
  }

  afterAll(async () => {
    // ClusterRoles and their bindings outlive the namespace.
    for (const [name, namespace] of installed)
      await helm(['uninstall', name, '-n', namespace, `--kubeconfig=${kubeconfig()}`]);
  });

  // The global setup applied the CRDs already; Helm must not try to own them.
  const common = { crds: { enabled: false }, publicBaseURL: 'https://hooks.example.com' };

  beforeAll(async () => {
    await install('hg', release.name, {
      ...common,
      expose: { ingress: { enabled: true, host: 'hooks.example.com', tlsSecretName: 'hooks-tls' } },
      ingress: {
        autoscaling: { enabled: true },
        podDisruptionBudget: { enabled: true },
        trustedProxies: ['10.0.0.0/8'],
      },
    });
    await install('hgw', scoped.name, { ...common, watchNamespaces: [watched.name] });
  });

  it('is accepted by the API server, every object', async () => {
    const manifest = await helm([
      'get',
      'manifest',
      'hg',
      '-n',
      release.name,
      `--kubeconfig=${kubeconfig()}`,
    ]);
    expect(manifest.code).toBe(0);
    const objs: Obj[] = parseAllDocuments(manifest.stdout)
      .map((d) => d.toJS())
      .filter(Boolean);
    expect(objs.length).toBeGreaterThan(10);
    for (const o of objs) {
      const ns = o.metadata.namespace ? ['-n', o.metadata.namespace] : [];
      const r = await kubectl(['get', o.kind, o.metadata.name, ...ns, '-o', 'name']);
      expect(r.stderr, `${o.kind} ${o.metadata.name}`).toBe('');
    }
    const status = await helm(['status', 'hg', '-n', release.name, `--kubeconfig=${kubeconfig()}`]);
    expect(status.stdout).toContain('STATUS: deployed');
    expect(status.stdout).toContain(
      'Admission policies: runs are held to the Pod Security Standards baseline',
    );
    expect(status.stdout).toContain('kubectl wait -n default --for=condition=Ready webhooktrigger/hello');
  });

  /** `kubectl auth can-i` as a ServiceAccount; `where` is a namespace or "--all-namespaces". */
  async function can(sa: [string, string], verb: string, resource: string, where: string) {
    const scope = where === '--all-namespaces' ? [where] : ['-n', where];
    // kubectl takes "pods/exec" but not "<resource>.<group>/status": pass subresources as a flag.
    const [res, sub] = resource.split('/');
    const r = await kubectl([
      'auth',
      'can-i',
      verb,
      res!,
      ...(sub ? [`--subresource=${sub}`] : []),
      ...scope,
      `--as=system:serviceaccount:${sa[0]}:${sa[1]}`,
    ]);
    expect(r.stdout.trim(), r.stderr).toMatch(/^(yes|no)$/);
    return r.stdout.trim() === 'yes';
  }
  type Check = [verb: string, resource: string, where: 'app' | 'release' | 'watched' | 'all'];
  async function expectCan(sa: [string, string], allowed: Check[], denied: Check[]) {
    const where = (w: Check[2]) =>
      ({ app: app.name, release: release.name, watched: watched.name, all: '--all-namespaces' })[w];
    const wrong: string[] = [];
    for (const [verb, res, w] of allowed)
      if (!(await can(sa, verb, res, where(w)))) wrong.push(`cannot ${verb} ${res} in ${w}`);
    for (const [verb, res, w] of denied)
      if (await can(sa, verb, res, where(w))) wrong.push(`can ${verb} ${res} in ${w}`);
    expect(wrong).toEqual([]);
  }

  it('lets the operator reconcile, and nothing more', async () => {
    await expectCan(
      [release.name, 'hg-hookgate-operator'],
      [
        ['list', 'webhooktriggers.hookgate.io', 'all'],
        ['watch', 'workflows.hookgate.io', 'app'],
        ['patch', 'webhooktriggers.hookgate.io/status', 'app'],
        ['patch', 'workflows.hookgate.io/status', 'app'],
        ['create', 'secrets', 'app'],
        ['get', 'secrets', 'app'],
        ['delete', 'secrets', 'release'],
        ['patch', 'secrets', 'release'],
        ['create', 'jobs.batch', 'app'],
        ['patch', 'jobs.batch', 'app'],
        ['delete', 'jobs.batch', 'app'],
        ['list', 'pods', 'app'],
        ['create', 'events', 'app'],
        ['create', 'events.events.k8s.io', 'app'],
        ['update', 'leases.coordination.k8s.io', 'release'],
        ['create', 'leases.coordination.k8s.io', 'release'],
      ],
      [
        ['create', 'pods/exec', 'app'],
        ['create', 'pods', 'app'],
        ['update', 'webhooktriggers.hookgate.io', 'app'],
        ['delete', 'webhooktriggers.hookgate.io', 'app'],
        ['create', 'workflows.hookgate.io', 'app'],
        ['update', 'secrets', 'app'],
        ['delete', 'secrets', 'app'],
        ['delete', 'secrets', 'all'],
        ['update', 'jobs.batch', 'app'],
        ['update', 'leases.coordination.k8s.io', 'app'],
        ['delete', 'leases.coordination.k8s.io', 'release'],
        ['get', 'configmaps', 'app'],
        ['create', 'clusterroles.rbac.authorization.k8s.io', 'all'],
        ['create', 'rolebindings.rbac.authorization.k8s.io', 'app'],
        ['delete', 'namespaces', 'all'],
        ['list', 'customresourcedefinitions.apiextensions.k8s.io', 'all'],
      ],
    );
  });

  it('lets the ingress launch runs and read its route Secrets, and nothing more', async () => {
    await expectCan(
      [release.name, 'hg-hookgate-ingress'],
      [
        ['create', 'jobs.batch', 'app'],
        ['get', 'jobs.batch', 'app'],
        ['watch', 'jobs.batch', 'app'],
        ['delete', 'jobs.batch', 'app'],
        ['create', 'secrets', 'app'],
        ['list', 'secrets', 'release'],
        ['watch', 'secrets', 'release'],
        ['create', 'secrets', 'release'],
        ['watch', 'endpointslices.discovery.k8s.io', 'release'],
        ['patch', 'webhooktriggers.hookgate.io/status', 'app'],
        ['create', 'events.events.k8s.io', 'app'],
      ],
      [
        ['get', 'events.events.k8s.io', 'app'],
        ['list', 'events.events.k8s.io', 'app'],
        ['patch', 'events.events.k8s.io', 'app'],
        ['delete', 'events.events.k8s.io', 'app'],
        ['create', 'events', 'app'],
        ['list', 'endpointslices.discovery.k8s.io', 'app'],
        ['get', 'secrets', 'app'],
        ['list', 'secrets', 'app'],
        ['watch', 'secrets', 'app'],
        ['list', 'secrets', 'all'],
        ['delete', 'secrets', 'app'],
        ['get', 'secrets', 'release'],
        ['update', 'secrets', 'release'],
        ['patch', 'secrets', 'release'],
        ['delete', 'secrets', 'release'],
        ['create', 'pods', 'app'],
        ['get', 'pods', 'app'],
        ['list', 'pods', 'app'],
        ['list', 'pods', 'all'],
        ['create', 'pods/exec', 'app'],
        ['update', 'jobs.batch', 'app'],
        ['get', 'webhooktriggers.hookgate.io', 'app'],
        ['patch', 'webhooktriggers.hookgate.io', 'app'],
        ['patch', 'workflows.hookgate.io/status', 'app'],
        ['get', 'workflows.hookgate.io', 'app'],
        ['create', 'leases.coordination.k8s.io', 'release'],
        ['get', 'configmaps', 'release'],
        ['create', 'deployments.apps', 'release'],
      ],
    );
  });

  it("enforces its admission policies: the ingress's run in kube-system is refused", async () => {
    const ingress = `system:serviceaccount:${release.name}:hg-hookgate-ingress`;
    const probe = ['create', 'job', 'probe', '--image=busybox', '-n', 'kube-system', '--dry-run=server'];
    // The binding reaches the API server's admission plugin through a watch.
    const r = await waitFor(async () => {
      const r = await kubectl([...probe, `--as=${ingress}`]);
      return r.code !== 0 && r;
    });
    expect(r.stderr).toContain(`ValidatingAdmissionPolicy 'hg-hookgate-runs-${release.name}'`);
    expect(r.stderr).toContain('hookgate: no runs in namespace kube-system');
    // The same request by someone else is none of the policy's business.
    expect((await kubectl(probe)).code).toBe(0);
  });

  it('confines both components to the watched namespaces when watchNamespaces is set', async () => {
    const operator: [string, string] = [scoped.name, 'hgw-hookgate-operator'];
    const ingress: [string, string] = [scoped.name, 'hgw-hookgate-ingress'];
    await expectCan(
      operator,
      [
        ['list', 'webhooktriggers.hookgate.io', 'watched'],
        ['create', 'secrets', 'watched'],
        ['create', 'jobs.batch', 'watched'],
      ],
      [
        ['list', 'webhooktriggers.hookgate.io', 'all'],
        ['list', 'webhooktriggers.hookgate.io', 'app'],
        ['get', 'secrets', 'app'],
        ['delete', 'secrets', 'watched'],
        ['create', 'jobs.batch', 'app'],
      ],
    );
    // Route Secrets and the Lease in its own namespace.
    expect(await can(operator, 'create', 'secrets', scoped.name)).toBe(true);
    expect(await can(operator, 'list', 'secrets', scoped.name)).toBe(true);
    expect(await can(operator, 'update', 'leases.coordination.k8s.io', scoped.name)).toBe(true);
    await expectCan(
      ingress,
      [
        ['create', 'jobs.batch', 'watched'],
        ['create', 'secrets', 'watched'],
        ['patch', 'webhooktriggers.hookgate.io/status', 'watched'],
      ],
      [
        ['create', 'jobs.batch', 'app'],
        ['create', 'secrets', 'app'],
        ['get', 'secrets', 'watched'],
        ['list', 'jobs.batch', 'all'],
      ],
    );
    expect(await can(ingress, 'list', 'secrets', scoped.name)).toBe(true);
    // Captures of handshake secrets, in its own namespace (admission allows nothing else there).
    expect(await can(ingress, 'create', 'secrets', scoped.name)).toBe(true);
    expect(await can(ingress, 'get', 'secrets', scoped.name)).toBe(false);
  });
});
