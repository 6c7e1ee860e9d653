// The Helm chart as `helm template` renders it: lint, the objects for default and non-default
// values, and the strict values schema. A real `helm install` is test/chart-install.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { CHART, findOne, helm, type Obj, renderValues } from './chart.test-helper.ts';
import { chartNodeOptions } from './harness/index.ts';

const render = renderValues;

const byKind = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);
/** Rules as sorted "group/resource verb" strings, so a table can be compared exactly. */
const flat = (rules: Obj[]) =>
  rules
    .flatMap((r) =>
      r.apiGroups.flatMap((g: string) =>
        r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${g || 'core'}/${res} ${v}`)),
      ),
    )
    .sort();
const table = (rows: Record<string, string[]>) =>
  Object.entries(rows)
    .flatMap(([res, verbs]) => verbs.map((v) => `${res} ${v}`))
    .sort();

// docs/design.md "RBAC", exactly.
const OPERATOR_RULES = table({
  'hookgate.io/workflows': ['get', 'list', 'watch'],
  'hookgate.io/webhooktriggers': ['get', 'list', 'watch'],
  'hookgate.io/workflows/status': ['patch'],
  'hookgate.io/webhooktriggers/status': ['patch'],
  'core/secrets': ['get', 'list', 'watch', 'create', 'patch'],
  'batch/jobs': ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  'core/pods': ['get', 'list'],
  'core/events': ['create', 'patch'],
  'events.k8s.io/events': ['create', 'patch'],
  // resourceNames: [hookgate-workflows] (test/chart-reach.test.ts)
  'hookgate.io/workflowlistings': ['create', 'patch'],
});
const OPERATOR_LEASE_RULES = table({ 'coordination.k8s.io/leases': ['get', 'create', 'update'] });
// Route Secrets: the only Secrets the operator deletes.
const OPERATOR_LOCAL_RULES = [...OPERATOR_LEASE_RULES, ...table({ 'core/secrets': ['delete'] })].sort();
const INGRESS_RULES = table({
  'batch/jobs': ['create', 'get', 'list', 'watch', 'delete'],
  'core/secrets': ['create'],
  'hookgate.io/webhooktriggers/status': ['patch'],
  'events.k8s.io/events': ['create'],
});
const INGRESS_LOCAL_RULES = table({
  // create: captures of handshake secrets only (the admission policy says so).
  'core/secrets': ['list', 'watch', 'create'],
  'discovery.k8s.io/endpointslices': ['list', 'watch'],
});

describe('helm lint', () => {
  it('passes with --strict', async () => {
    const r = await helm(['lint', '--strict', CHART]);
    expect(r.stdout + r.stderr).toContain('0 chart(s) failed');
    expect(r.code).toBe(0);
  });
});

describe('helm template, default values', () => {
  let objs: Obj[];
  beforeAll(async () => {
    objs = await render();
  });

  it('renders the CRDs, kept on uninstall', () => {
    const crds = byKind(objs, 'CustomResourceDefinition');
    expect(crds.map((c) => c.metadata.name).sort()).toEqual([
      'webhooktriggers.hookgate.io',
      'workflowlistings.hookgate.io',
      'workflows.hookgate.io',
    ]);
    for (const crd of crds) expect(crd.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
  });

  it('runs two operator replicas with leader election and the configuration flags', () => {
    const d = findOne(objs, 'Deployment', 'hg-hookgate-operator');
    expect(d.spec.replicas).toBe(2);
    const c = d.spec.template.spec.containers[0];
    expect(c.args).toEqual([
      'dist/operator/main.js',
      '--public-base-url=http://hg-hookgate-ingress.hookgate-system.svc',
      '--ingress-namespace=hookgate-system',
      '--leader-elect=true',
      '--lease-namespace=hookgate-system',
      '--metrics-port=8080',
      '--health-port=8081',
      '--log-level=info',
      '--rotation-grace=24h',
      '--trigger-workers=32',
    ]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(d.spec.template.spec.serviceAccountName).toBe('hg-hookgate-operator');
  });

  it('runs two ingress replicas behind a Service on port 80, metrics on 9090 behind another', () => {
    const d = findOne(objs, 'Deployment', 'hg-hookgate-ingress');
    expect(d.spec.replicas).toBe(2);
    const c = d.spec.template.spec.containers[0];
    expect(c.args).toEqual(['dist/ingress/server.js']);
    expect(c.ports).toEqual([
      { name: 'http', containerPort: 8080 },
      { name: 'metrics', containerPort: 9090 },
    ]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    const svc = findOne(objs, 'Service', 'hg-hookgate-ingress');
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http' }]);
    expect(findOne(objs, 'Service', 'hg-hookgate-ingress-metrics').spec.ports).toEqual([
      { name: 'metrics', port: 9090, targetPort: 'metrics' },
    ]);
    expect(svc.spec.selector).toEqual(d.spec.selector.matchLabels);
    // The replicas behind that Service share each trigger's rate limit; each knows its own address.
    expect(c.env).toContainEqual({ name: 'HOOKGATE_PEERS_SERVICE', value: 'hg-hookgate-ingress' });
    expect(c.env).toContainEqual({
      name: 'POD_IP',
      valueFrom: { fieldRef: { fieldPath: 'status.podIP' } },
    });
    expect(c.env).toContainEqual({ name: 'HOOKGATE_FLOOD_LIMIT', value: '600' });
    expect(c.env).toContainEqual({ name: 'HOOKGATE_FLOOD_PERIOD', value: '1m' });
  });

  it('locks both components down: non-root, read-only root, no capabilities, RuntimeDefault seccomp, resources', () => {
    for (const d of byKind(objs, 'Deployment')) {
      const pod = d.spec.template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const c of pod.containers) {
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(Object.keys(c.resources).sort()).toEqual(['limits', 'requests']);
        expect(c.image).toBe('ghcr.io/hookgate/hookgate:0.1.0');
      }
    }
  });

  it('sizes each heap under its memory limit (NODE_OPTIONS), the flags the harness runs them with', async () => {
    const harness = await chartNodeOptions();
    const mib = (flags: string[], name: string) =>
      Number(flags.find((f) => f.startsWith(`--${name}=`))?.split('=')[1] ?? Number.NaN);
    for (const d of byKind(objs, 'Deployment')) {
      const c = d.spec.template.spec.containers[0];
      const flags = c.env.find((e: Obj) => e.name === 'NODE_OPTIONS').value.split(' ');
      expect(flags).toEqual(harness[c.name as 'operator' | 'ingress']);
      const limit = Number(/^(\d+)Mi$/.exec(c.resources.limits.memory)?.[1]);
      // Old space, the young generation (three semi-spaces) and ~64 MiB of Node itself.
      const need = mib(flags, 'max-old-space-size') + 3 * mib(flags, 'max-semi-space-size') + 64;
      expect(need, c.name).toBeLessThanOrEqual(limit);
    }
  });

  it('grants each ServiceAccount exactly the design.md RBAC, cluster-wide', () => {
    expect(
      byKind(objs, 'ServiceAccount')
        .map((s) => s.metadata.name)
        .sort(),
    ).toEqual(['hg-hookgate-ingress', 'hg-hookgate-operator']);
    expect(flat(findOne(objs, 'ClusterRole', 'hg-hookgate-operator-hookgate-system').rules)).toEqual(
      OPERATOR_RULES,
    );
    expect(flat(findOne(objs, 'Role', 'hg-hookgate-operator-local').rules)).toEqual(OPERATOR_LOCAL_RULES);
    expect(flat(findOne(objs, 'ClusterRole', 'hg-hookgate-ingress-hookgate-system').rules)).toEqual(
      INGRESS_RULES,
    );
    expect(flat(findOne(objs, 'Role', 'hg-hookgate-ingress-local').rules)).toEqual(INGRESS_LOCAL_RULES);
    for (const b of [...byKind(objs, 'ClusterRoleBinding'), ...byKind(objs, 'RoleBinding')]) {
      expect(b.subjects).toHaveLength(1);
      expect(b.roleRef.name.startsWith(b.subjects[0].name)).toBe(true);
    }
  });

  it('opens the webhook port to all and metrics to the monitoring namespace only', () => {
    const np = findOne(objs, 'NetworkPolicy', 'hg-hookgate-ingress');
    expect(np.spec.ingress).toEqual([
      { ports: [{ port: 'http', protocol: 'TCP' }] },
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
        ports: [{ port: 'metrics', protocol: 'TCP' }],
      },
    ]);
    expect(findOne(objs, 'NetworkPolicy', 'hg-hookgate-operator').spec.ingress[0].ports).toEqual([
      { port: 'metrics', protocol: 'TCP' },
    ]);
  });

  it('ships the admission policies for this release, bound to deny', () => {
    const names = [
      'hg-hookgate-run-owners-hookgate-system',
      'hg-hookgate-runs-hookgate-system',
      'hg-hookgate-trigger-authors-hookgate-system',
      'hg-hookgate-workflow-authors-hookgate-system',
    ];
    const policies = byKind(objs, 'ValidatingAdmissionPolicy');
    expect(policies.map((p) => p.metadata.name).sort()).toEqual(names);
    for (const p of policies) {
      expect(p.apiVersion).toBe('admissionregistration.k8s.io/v1');
      expect(p.spec.failurePolicy).toBe('Fail');
      const binding = findOne(objs, 'ValidatingAdmissionPolicyBinding', p.metadata.name);
      expect(binding.spec).toMatchObject({ policyName: p.metadata.name, validationActions: ['Deny'] });
    }
    const runs = findOne(objs, 'ValidatingAdmissionPolicy', names[1]!);
    const who = runs.spec.matchConditions.map((c: Obj) => c.expression).join('\n');
    expect(who).toContain("'system:serviceaccount:hookgate-system:hg-hookgate-ingress'");
    expect(who).toContain("'system:serviceaccount:hookgate-system:hg-hookgate-operator'");
    const rules = runs.spec.validations.map((v: Obj) => v.expression).join('\n');
    expect(rules).toContain("['kube-system', 'kube-public', 'kube-node-lease', 'hookgate-system']");
    const authors = findOne(objs, 'ValidatingAdmissionPolicy', names[3]!);
    expect(authors.spec.matchConstraints.resourceRules).toEqual([
      {
        apiGroups: ['hookgate.io'],
        apiVersions: ['*'],
        resources: ['workflows'],
        operations: ['CREATE', 'UPDATE'],
      },
    ]);
    expect(authors.spec.validations[0].expression).toContain(
      "authorizer.group('batch').resource('jobs').namespace(request.namespace).check('create').allowed()",
    );
  });

  it('renders no optional objects', () => {
    for (const kind of [
      'Ingress',
      'HTTPRoute',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'ServiceMonitor',
      'PrometheusRule',
    ]) {
      expect(byKind(objs, kind), kind).toEqual([]);
    }
  });
});

describe('helm template, non-default values', () => {
  it('exposes the trigger URLs through an Ingress with TLS and derives the public URL from it', async () => {
    const objs = await render({
      expose: {
        ingress: { enabled: true, className: 'nginx', host: 'hooks.example.com', tlsSecretName: 'hooks-tls' },
      },
      ingress: { trustedProxies: ['10.0.0.0/8'] },
    });
    const ing = findOne(objs, 'Ingress', 'hg-hookgate-ingress');
    expect(ing.spec.ingressClassName).toBe('nginx');
    expect(ing.spec.tls).toEqual([{ hosts: ['hooks.example.com'], secretName: 'hooks-tls' }]);
    expect(ing.spec.rules[0].http.paths[0]).toMatchObject({
      path: '/hooks/',
      pathType: 'Prefix',
      backend: { service: { name: 'hg-hookgate-ingress', port: { name: 'http' } } },
    });
    const args = findOne(objs, 'Deployment', 'hg-hookgate-operator').spec.template.spec.containers[0].args;
    expect(args).toContain('--public-base-url=https://hooks.example.com');
  });

  it('attaches an HTTPRoute to the given Gateway', async () => {
    const parentRefs = [{ name: 'public', namespace: 'gateway-system', sectionName: 'https' }];
    const objs = await render({
      publicBaseURL: 'https://hooks.example.org/',
      expose: { httpRoute: { enabled: true, parentRefs, hostnames: ['hooks.example.org'] } },
      ingress: { trustedProxies: ['10.0.0.0/8'] },
    });
    const route = findOne(objs, 'HTTPRoute', 'hg-hookgate-ingress');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.spec.parentRefs).toEqual(parentRefs);
    expect(route.spec.hostnames).toEqual(['hooks.example.org']);
    expect(route.spec.rules[0].backendRefs).toEqual([{ name: 'hg-hookgate-ingress', port: 80 }]);
    const args = findOne(objs, 'Deployment', 'hg-hookgate-operator').spec.template.spec.containers[0].args;
    expect(args).toContain('--public-base-url=https://hooks.example.org');
  });

  it('autoscales the ingress (no fixed replicas) and protects it with a PodDisruptionBudget', async () => {
    const objs = await render({
      ingress: {
        autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 7 },
        podDisruptionBudget: { enabled: true },
      },
    });
    const hpa = findOne(objs, 'HorizontalPodAutoscaler', 'hg-hookgate-ingress');
    expect(hpa.spec).toMatchObject({
      scaleTargetRef: { kind: 'Deployment', name: 'hg-hookgate-ingress' },
      minReplicas: 3,
      maxReplicas: 7,
    });
    expect(findOne(objs, 'Deployment', 'hg-hookgate-ingress').spec.replicas).toBeUndefined();
    expect(findOne(objs, 'PodDisruptionBudget', 'hg-hookgate-ingress').spec.minAvailable).toBe(1);
  });

  it('renders a ServiceMonitor per component on the metrics port of a Service that exists', async () => {
    const objs = await render({ serviceMonitor: { enabled: true, labels: { release: 'kps' } } });
    const monitors = byKind(objs, 'ServiceMonitor');
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual([
      'hg-hookgate-ingress',
      'hg-hookgate-operator',
    ]);
    for (const m of monitors) {
      expect(m.metadata.labels.release).toBe('kps');
      // The operator's hookgate_condition labels objects by their own namespace (honorLabels).
      const honor = m.metadata.name.endsWith('-operator') ? { honorLabels: true } : {};
      expect(m.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s', ...honor }]);
      const services = byKind(objs, 'Service').filter((s) =>
        Object.entries(m.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels[k] === v),
      );
      expect(services.flatMap((s) => s.spec.ports.map((p: Obj) => p.name))).toContain('metrics');
    }
  });

  it('uses Roles in each watched namespace instead of ClusterRoles', async () => {
    const objs = await render({ watchNamespaces: ['team-a', 'team-b'] });
    // The components' rights; the roles that only add to the built-in user roles stay cluster-wide.
    const aggregated = (r: Obj) =>
      Object.keys(r.metadata.labels ?? {}).some((l) =>
        l.startsWith('rbac.authorization.k8s.io/aggregate-to-'),
      );
    expect(byKind(objs, 'ClusterRole').filter((r) => !aggregated(r))).toEqual([]);
    expect(byKind(objs, 'ClusterRoleBinding')).toEqual([]);
    for (const ns of ['team-a', 'team-b']) {
      const roles = byKind(objs, 'Role').filter((r) => r.metadata.namespace === ns);
      expect(flat(roles.find((r) => r.metadata.name === 'hg-hookgate-operator').rules)).toEqual(
        OPERATOR_RULES,
      );
      expect(flat(roles.find((r) => r.metadata.name === 'hg-hookgate-ingress').rules)).toEqual(INGRESS_RULES);
    }
    // The operator still publishes route Secrets in its own namespace.
    const local = findOne(objs, 'Role', 'hg-hookgate-operator-local');
    const routeSecrets = table({
      'core/secrets': ['get', 'list', 'watch', 'create', 'patch', 'delete'],
      'core/events': ['create', 'patch'],
      'events.k8s.io/events': ['create', 'patch'],
    });
    expect(flat(local.rules)).toEqual([...OPERATOR_LEASE_RULES, ...routeSecrets].sort());
    const args = findOne(objs, 'Deployment', 'hg-hookgate-operator').spec.template.spec.containers[0].args;
    expect(args).toContain('--namespaces=team-a,team-b');
  });

  it('confines runs to the watched namespaces, which may not include its own', async () => {
    const objs = await render({ watchNamespaces: ['team-a', 'team-b'] });
    const runs = findOne(objs, 'ValidatingAdmissionPolicy', 'hg-hookgate-runs-hookgate-system');
    const rules = runs.spec.validations.map((v: Obj) => v.expression).join('\n');
    expect(rules).toContain('request.namespace in ["team-a","team-b"]');
    await expect(render({ watchNamespaces: ['team-a', 'hookgate-system'] })).rejects.toThrow(
      'watchNamespaces must not include the release namespace "hookgate-system"',
    );
  });

  it('leaves out the admission policies when asked (only with watchNamespaces)', async () => {
    const objs = await render({ admission: { enabled: false }, watchNamespaces: ['team-a'] });
    expect(byKind(objs, 'ValidatingAdmissionPolicy')).toEqual([]);
    expect(byKind(objs, 'ValidatingAdmissionPolicyBinding')).toEqual([]);
  });

  it('leaves out the CRDs, or their keep policy, when asked', async () => {
    expect(byKind(await render({ crds: { enabled: false } }), 'CustomResourceDefinition')).toEqual([]);
    for (const crd of byKind(await render({ crds: { keep: false } }), 'CustomResourceDefinition')) {
      expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBeUndefined();
    }
  });

  it('passes trusted proxies, the flood guard and a NodePort through', async () => {
    const objs = await render({
      publicBaseURL: 'https://hooks.example.com',
      ingress: {
        trustedProxies: ['10.0.0.0/8'],
        floodGuard: { requests: 100, period: '30s' },
        service: { type: 'NodePort', nodePort: 30080 },
      },
    });
    const env = findOne(objs, 'Deployment', 'hg-hookgate-ingress').spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: 'HOOKGATE_TRUSTED_PROXIES', value: '10.0.0.0/8' });
    expect(env).toContainEqual({ name: 'HOOKGATE_FLOOD_LIMIT', value: '100' });
    expect(env).toContainEqual({ name: 'HOOKGATE_FLOOD_PERIOD', value: '30s' });
    expect(findOne(objs, 'Service', 'hg-hookgate-ingress').spec.ports[0].nodePort).toBe(30080);
  });
});

describe('values.schema.json', () => {
  it.each([
    ['a misspelled key', { ingress: { replica: 3 } }, "additional properties 'replica' not allowed"],
    [
      'an unknown top-level key',
      { publicBaseUrl: 'https://x' },
      "additional properties 'publicBaseUrl' not allowed",
    ],
    ['a bad enum', { logLevel: 'verbose' }, '/logLevel'],
    ['a wrong type', { operator: { replicas: 'two' } }, '/operator/replicas'],
    ['a URL without a scheme', { publicBaseURL: 'hooks.example.com' }, '/publicBaseURL'],
    [
      'an HTTPRoute without a Gateway',
      { expose: { httpRoute: { enabled: true } } },
      '/expose/httpRoute/parentRefs',
    ],
    ['a namespace that is not a DNS label', { watchNamespaces: ['Team_A'] }, '/watchNamespaces/0'],
    [
      'a misspelled admission key',
      { admission: { enable: false } },
      "additional properties 'enable' not allowed",
    ],
  ])('rejects %s', async (_what, values, message) => {
    await expect(render(values)).rejects.toThrow(message);
  });
});
