// What test/ingress-launch.test.ts and test/ingress-routes-store.test.ts share: a ServiceAccount
// with exactly the ingress RBAC of docs/design.md, the Workflows runs are launched for, and a
// KubeLauncher running as that account, set up before a file's tests by `useIngressLaunch()`.
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { GROUP, type Route, VERSION, WORKFLOW, WorkflowSpec } from '../api/v1alpha1/index.ts';
import { testRoute } from '../ingress/http/fakes.test-helper.ts';
import { KubeLauncher, type LauncherHooks } from '../ingress/run/launcher.ts';
import { isNotFound } from '../lib/kube.ts';
import { kubeConfig, kubeConfigVia, serviceAccountKubeconfig, useNamespace } from './helpers.ts';

export const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
export let app: { readonly name: string }; // triggers, workflows, runs
export let own: { readonly name: string }; // the ingress's own namespace: route Secrets
export let other: { readonly name: string }; // route-labelled Secrets the ingress must not see
const SA = 'hookgate-ingress';

export let admin: KubeConfig;
export let asIngress: KubeConfig;
let saKubeconfigPath: string;
let clusterRole: string;
export const workflows = new Map<string, { uid: string; spec: WorkflowSpec }>();
export let launcher: KubeLauncher;

const pod = (extra: Record<string, unknown> = {}) => ({
  template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }], ...extra } },
});
const specs: Record<string, unknown> = {
  allow: { jobTemplate: { metadata: { labels: { team: 'a' } }, spec: { backoffLimit: 0, ...pod() } } },
  // Pods that never schedule keep their Job active.
  forbid: { concurrencyPolicy: 'Forbid', jobTemplate: { spec: pod({ nodeSelector: { nowhere: 'true' } }) } },
  'forbid-race': {
    concurrencyPolicy: 'Forbid',
    jobTemplate: { spec: pod({ nodeSelector: { nowhere: 'true' } }) },
  },
  replace: {
    concurrencyPolicy: 'Replace',
    jobTemplate: { spec: pod({ nodeSelector: { nowhere: 'true' } }) },
  },
  stuck: { jobTemplate: { spec: pod({ nodeSelector: { nowhere: 'true' } }) } },
  // Valid for the Workflow schema, invalid for the Job API: Jobs allow only Never and OnFailure.
  rejected: { jobTemplate: { spec: pod({ restartPolicy: 'Always' }) } },
  fail: {
    jobTemplate: {
      spec: {
        backoffLimit: 0,
        template: {
          metadata: {
            annotations: {
              'hookgate.io/test-fail-exit-code': '3',
              'hookgate.io/test-fail-message': 'disk full',
            },
          },
          spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] },
        },
      },
    },
  },
};

export function route(workflow: string, trigger = `t-${workflow}`, uid = `${trigger}-uid`): Route {
  const wf = workflows.get(workflow)!;
  return testRoute({
    namespace: app.name,
    name: trigger,
    uid,
    auth: { tokens: [{ value: 'hgt_test' }] },
    rateLimit: {},
    maxBodyBytes: 1024,
    workflow: { name: workflow, uid: wf.uid, spec: wf.spec },
  });
}

export const jobsOf = async (trigger: string) =>
  (
    await admin
      .makeApiClient(BatchV1Api)
      .listNamespacedJob({ namespace: app.name, labelSelector: `hookgate.io/trigger=${trigger}` })
  ).items;

/** The ingress ServiceAccount's credentials, sent to another API server (from startApiServer). */
export const asIngressVia = (server: { kubeconfigPath: string }) => kubeConfigVia(saKubeconfigPath, server);

/** A launcher of its own, for the hooks it reports to. */
export async function withLauncher(hooks: LauncherHooks, fn: (l: KubeLauncher) => Promise<void>) {
  const l = new KubeLauncher(asIngress, hooks, log);
  try {
    await l.start();
    await fn(l);
  } finally {
    await l.stop();
  }
}

export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The namespaces, the ServiceAccount and its RBAC, the Workflows and the launcher, for one file. */
export function useIngressLaunch() {
  app = useNamespace('launch');
  own = useNamespace('ingress');
  other = useNamespace('other');

  beforeAll(async () => {
    admin = kubeConfig();
    const core = admin.makeApiClient(CoreV1Api);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    const custom = admin.makeApiClient(CustomObjectsApi);

    // The ingress RBAC of docs/design.md, and nothing more.
    await core.createNamespacedServiceAccount({ namespace: own.name, body: { metadata: { name: SA } } });
    const subjects = [{ kind: 'ServiceAccount', name: SA, namespace: own.name }];
    await rbac.createNamespacedRole({
      namespace: own.name,
      body: {
        metadata: { name: SA },
        rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: own.name,
      body: {
        metadata: { name: SA },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: SA },
        subjects,
      },
    });
    clusterRole = `hookgate-ingress-${own.name}`;
    await rbac.createClusterRole({
      body: {
        metadata: { name: clusterRole },
        rules: [
          { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
          { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
          { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
          { apiGroups: [GROUP], resources: ['webhooktriggers/status'], verbs: ['patch'] },
        ],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: clusterRole },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
        subjects,
      },
    });
    saKubeconfigPath = await serviceAccountKubeconfig(own.name, SA);
    asIngress = new KubeConfig();
    asIngress.loadFromFile(saKubeconfigPath);

    for (const [name, spec] of Object.entries(specs)) {
      const body = { apiVersion: `${GROUP}/${VERSION}`, kind: WORKFLOW.kind, metadata: { name }, spec };
      const created = await custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: app.name,
        plural: WORKFLOW.plural,
        body,
      });
      workflows.set(name, { uid: created.metadata.uid, spec: WorkflowSpec.parse(spec) });
    }

    launcher = new KubeLauncher(asIngress, {}, log);
    await launcher.start();
  });

  afterAll(async () => {
    await launcher?.stop();
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    const ignoreMissing = (err: unknown) => {
      if (!isNotFound(err)) throw err;
    };
    if (clusterRole) {
      await rbac.deleteClusterRoleBinding({ name: clusterRole }).catch(ignoreMissing);
      await rbac.deleteClusterRole({ name: clusterRole }).catch(ignoreMissing);
    }
  });
}
