// The local control plane is real: each test relies on behaviour a fake API server would not have
// (schema validation, the job controller with kwok, the garbage collector, RBAC, the pinned build).
import {
  ApiextensionsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1Job,
} from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { isNotFound, statusOf } from '../lib/kube.ts';
import { pinnedVersions } from './harness/index.ts';
import { kubeConfig, kubectl, serviceAccountKubeconfig, useNamespace, waitFor } from './helpers.ts';

const ns = useNamespace('smoke');
const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const batch = kc.makeApiClient(BatchV1Api);

describe('CustomResourceDefinition', () => {
  const group = 'smoke.hookgate.test';
  const crdName = `widgets.${group}`;
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  afterAll(async () => {
    await ext.deleteCustomResourceDefinition({ name: crdName }).catch(() => {});
  });

  it('rejects an object its schema forbids', async () => {
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: crdName },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: {
                      type: 'object',
                      required: ['size'],
                      properties: { size: { type: 'integer', minimum: 1 } },
                    },
                  },
                },
              },
            },
          ],
        },
      },
    });
    await waitFor(
      async () => {
        const crd = await ext.readCustomResourceDefinition({ name: crdName });
        return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      },
      { what: 'CRD Established' },
    );
    const widget = (name: string, spec: object) => ({
      apiVersion: `${group}/v1`,
      kind: 'Widget',
      metadata: { name },
      spec,
    });
    const create = (body: object) =>
      custom.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace: ns.name,
        plural: 'widgets',
        body,
      });

    // Discovery of a new CRD takes a moment to reach every handler; retry until the valid one is in.
    await waitFor(() => create(widget('good', { size: 3 })), { what: 'a valid Widget accepted' });
    const err = await create(widget('bad', { size: 0 })).catch((e: unknown) => e);
    expect(statusOf(err)).toBe(422);
    expect(String((err as Error).message)).toContain('spec.size');
    const missing = await create(widget('empty', {})).catch((e: unknown) => e);
    expect(statusOf(missing)).toBe(422);
  });
});

describe('Job', () => {
  const job = (name: string, annotations?: Record<string, string>): V1Job => ({
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { annotations },
        // Never pulled: kwok simulates the pod.
        spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'registry.invalid/run:1' }] },
      },
    },
  });
  const condition = async (name: string, type: string) => {
    const j = await batch.readNamespacedJob({ namespace: ns.name, name });
    return j.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  };
  const podOf = async (name: string) => {
    const pods = await core.listNamespacedPod({
      namespace: ns.name,
      labelSelector: `batch.kubernetes.io/job-name=${name}`,
    });
    expect(pods.items).toHaveLength(1);
    return pods.items[0]!;
  };

  it('reaches Complete through the job controller, the scheduler and kwok', async () => {
    await batch.createNamespacedJob({ namespace: ns.name, body: job('ok') });
    await waitFor(() => condition('ok', 'Complete'), { timeoutMs: 60_000, what: 'Job ok Complete' });
    const pod = await podOf('ok');
    expect(pod.spec?.nodeName).toBe('kwok-node-0');
    expect(pod.status?.phase).toBe('Succeeded');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(0);
  });

  it('reaches Failed with the exit code and termination message the pod template asks for', async () => {
    const message = 'boom: "quoted" and\nmultiline';
    await batch.createNamespacedJob({
      namespace: ns.name,
      body: job('fail', { 'hookgate.io/test-fail-exit-code': '3', 'hookgate.io/test-fail-message': message }),
    });
    const failed = await waitFor(() => condition('fail', 'Failed'), {
      timeoutMs: 60_000,
      what: 'Job fail Failed',
    });
    expect(failed.reason).toBe('BackoffLimitExceeded');
    const pod = await podOf('fail');
    expect(pod.status?.phase).toBe('Failed');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 3, message });
  });
});

it('garbage-collects a Secret whose owner is deleted', async () => {
  const owner = await core.createNamespacedConfigMap({
    namespace: ns.name,
    body: { metadata: { name: 'owner' } },
  });
  await core.createNamespacedSecret({
    namespace: ns.name,
    body: {
      metadata: {
        name: 'owned',
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! }],
      },
      stringData: { k: 'v' },
    },
  });
  await core.deleteNamespacedConfigMap({ namespace: ns.name, name: 'owner' });
  await waitFor(
    () =>
      core.readNamespacedSecret({ namespace: ns.name, name: 'owned' }).then(
        () => false,
        (err: unknown) => isNotFound(err),
      ),
    { timeoutMs: 60_000, what: 'owned Secret garbage-collected' },
  );
});

it('answers 403 to a ServiceAccount without permission, and RBAC grants work', async () => {
  await core.createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name: 'nobody' } } });
  const path = await serviceAccountKubeconfig(ns.name, 'nobody');
  const whoami = await kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], {
    kubeconfig: path,
  });
  expect(whoami).toMatchObject({ code: 0, stdout: `system:serviceaccount:${ns.name}:nobody` });

  const sa = new KubeConfig();
  sa.loadFromFile(path);
  const asSA = sa.makeApiClient(CoreV1Api);
  const denied = await asSA.listNamespacedSecret({ namespace: ns.name }).catch((e: unknown) => e);
  expect(statusOf(denied)).toBe(403);

  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace: ns.name,
    body: {
      metadata: { name: 'read-configmaps' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: ns.name,
    body: {
      metadata: { name: 'nobody-reads-configmaps' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
      subjects: [{ kind: 'ServiceAccount', name: 'nobody', namespace: ns.name }],
    },
  });
  await waitFor(() => asSA.listNamespacedConfigMap({ namespace: ns.name }), { what: 'RBAC grant effective' });
  expect(statusOf(await asSA.listNamespacedSecret({ namespace: ns.name }).catch((e: unknown) => e))).toBe(
    403,
  );
});

it('runs the pinned Kubernetes version', async () => {
  const { code, stdout, stderr } = await kubectl(['version', '-o', 'json']);
  expect(code, stderr).toBe(0);
  const version = JSON.parse(stdout);
  const pinned = pinnedVersions().K8S_VERSION;
  expect(version.serverVersion.gitVersion).toBe(pinned);
  expect(version.clientVersion.gitVersion).toBe(pinned);
});
