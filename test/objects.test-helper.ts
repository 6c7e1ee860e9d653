// hookgate's objects as the cluster tests write and read them: Workflows and WebhookTriggers (for
// kwok, or for the real node's containers), applied and read back, and a trigger's readiness and
// credentials.
import type { V1PodSpec } from '@kubernetes/client-node';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { Annotations, GROUP, VERSION, WEBHOOK_TRIGGER, type WebhookTrigger } from '../api/v1alpha1/index.ts';
import { REAL_NODE_POD } from './harness/index.ts';
import { kubeConfig, kubectl, useHookgate, useNamespace, waitFor } from './helpers.ts';

// biome-ignore lint/suspicious/noExplicitAny: a manifest's metadata and spec are free-form here
type Manifest = Record<string, any>;

/**
 * A Workflow whose runs are one busybox container (kwok completes them); `extra` goes into metadata
 * and spec, the Job's and the pod's metadata, the pod's spec and its container `main`.
 */
export function workflowObject(
  name: string,
  extra: {
    metadata?: Manifest;
    spec?: Manifest;
    jobMetadata?: Manifest;
    jobSpec?: Manifest;
    podMetadata?: Manifest;
    pod?: Manifest;
    container?: Manifest;
  } = {},
): Manifest {
  const pod = {
    restartPolicy: 'Never',
    containers: [{ name: 'main', image: 'busybox:1.37', ...extra.container }],
    ...extra.pod,
  };
  const template = { ...(extra.podMetadata ? { metadata: extra.podMetadata } : {}), spec: pod };
  return {
    apiVersion: 'hookgate.io/v1alpha1',
    kind: 'Workflow',
    metadata: { name, ...extra.metadata },
    spec: {
      jobTemplate: {
        ...(extra.jobMetadata ? { metadata: extra.jobMetadata } : {}),
        spec: { backoffLimit: 0, ...extra.jobSpec, template },
      },
      ...extra.spec,
    },
  };
}

/**
 * A pod spec whose one container runs `script` in the real node's busybox `image` (it has no
 * registry to pull from: test/harness/realnode.ts loads the image into containerd).
 */
export function realNodePod(image: string, script: string): V1PodSpec {
  return {
    ...REAL_NODE_POD,
    restartPolicy: 'Never',
    containers: [{ name: 'main', image, imagePullPolicy: 'Never', command: ['sh', '-c', script] }],
  };
}

/** The chart's values on the real node: hookgate's `image` as loaded there, two operators and an ingress. */
export function realNodeChartValues(image: string) {
  const [repository, tag] = image.split(':');
  return {
    crds: { enabled: false },
    publicBaseURL: 'http://hooks.local.test',
    image: { repository, tag, pullPolicy: 'Never' },
    operator: { replicas: 2, ...REAL_NODE_POD },
    ingress: { replicas: 1, ...REAL_NODE_POD },
  };
}

/** A Workflow whose runs are `realNodePod(image, script)`; `extra` goes into its spec and the pod's. */
export function realNodeWorkflowObject(
  name: string,
  image: string,
  script: string,
  extra: { spec?: Manifest; pod?: Manifest } = {},
): Manifest {
  return workflowObject(name, { spec: extra.spec, pod: { ...realNodePod(image, script), ...extra.pod } });
}

/** A WebhookTrigger of `workflow` with a generated bearer token unless `spec` says otherwise. */
export function triggerObject(
  name: string,
  workflow: string,
  extra: { metadata?: Manifest; spec?: Manifest } = {},
): Manifest {
  return {
    apiVersion: 'hookgate.io/v1alpha1',
    kind: 'WebhookTrigger',
    metadata: { name, ...extra.metadata },
    spec: { workflowRef: { name: workflow }, auth: { bearer: {} }, ...extra.spec },
  };
}

/** Server-side applies `objects` into `namespace` (as one List); throws with kubectl's message. */
export async function applyObjects(namespace: string, objects: object[]): Promise<void> {
  const r = await kubectl(
    ['apply', '--server-side', '--field-manager=hookgate-test', '-n', namespace, '-f', '-'],
    {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
    },
  );
  if (r.code !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
}

/** A WebhookTrigger as the API server has it now. */
export function readTrigger(namespace: string, name: string): Promise<WebhookTrigger> {
  return kubeConfig().makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: WEBHOOK_TRIGGER.plural,
    namespace,
    name,
  }) as Promise<WebhookTrigger>;
}

/**
 * The object `read` returns, once its status reflects its current generation and `ok` holds for it
 * (so that a reason asserted after is the one for the current spec).
 */
export function observed<
  T extends { metadata: { generation?: number }; status?: { observedGeneration?: number } },
>(read: () => Promise<T>, ok: (o: T) => unknown, opts: { what: string; timeoutMs?: number }): Promise<T> {
  return waitFor(async () => {
    const o = await read();
    return o.status?.observedGeneration === o.metadata.generation && Boolean(ok(o)) && o;
  }, opts);
}

/** Waits until the trigger is Ready for its current generation, and returns it. */
export function waitForReady(namespace: string, name: string, timeoutMs = 60_000): Promise<WebhookTrigger> {
  return observed(
    () => readTrigger(namespace, name),
    (t) => t.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
    { what: `${name} Ready`, timeoutMs },
  );
}

/** Asks for a rotation of the trigger's credentials, as `hookgate rotate` does; `value` names the request. */
export async function requestRotation(namespace: string, trigger: string, value: string): Promise<void> {
  const r = await kubectl([
    'annotate',
    '-n',
    namespace,
    'webhooktrigger',
    trigger,
    `${Annotations.rotate}=${value}`,
  ]);
  if (r.code !== 0) throw new Error(`kubectl annotate: ${r.stderr}`);
}

/** A key of a trigger's generated credentials Secret (`token`, `signingSecret`), once it holds one. */
export function credential(namespace: string, trigger: string, key = 'token'): Promise<string> {
  return waitFor(async () => (await secretData(namespace, `${trigger}-credentials`))[key], {
    what: `the ${key} of ${trigger}`,
  });
}

/**
 * A bearer trigger's URL and token, once its status has the URL: the ingress may still answer 404
 * (no route yet) or 503 (the Workflow's first dry run under way) for a moment after.
 */
export async function triggerEndpoint(
  namespace: string,
  name: string,
): Promise<{ url: string; token: string }> {
  const url = await waitFor(async () => (await readTrigger(namespace, name)).status?.url, {
    what: `${name} URL`,
  });
  return { url, token: await credential(namespace, name) };
}

/** A Secret's data, decoded; empty when the Secret does not exist (yet). */
export async function secretData(namespace: string, name: string): Promise<Record<string, string>> {
  const r = await kubectl(['get', 'secret', '-n', namespace, name, '-o', 'json']);
  if (r.code !== 0) return {};
  const data: Record<string, string> = JSON.parse(r.stdout).data ?? {};
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
}

/**
 * A namespace with the helpers above bound to it: most files work in one tenant namespace, and would
 * otherwise pass its name to every call.
 */
class Tenant {
  constructor(private readonly ns: { readonly name: string }) {}
  get name(): string {
    return this.ns.name;
  }
  readonly apply = (...objects: object[]) => applyObjects(this.name, objects);
  readonly trigger = (name: string) => readTrigger(this.name, name);
  readonly ready = (name: string) => waitForReady(this.name, name);
  /** The trigger once its status reflects its current generation and `ok` holds. */
  readonly settled = (name: string, ok: (t: WebhookTrigger) => unknown, what: string) =>
    observed(() => this.trigger(name), ok, { what });
  readonly credential = (trigger: string, key?: string) => credential(this.name, trigger, key);
  readonly secret = (name: string) => secretData(this.name, name);
  readonly rotate = (trigger: string, value: string) => requestRotation(this.name, trigger, value);
}

/** A fresh tenant namespace for the calling test file (useNamespace). */
export const useTenant = (prefix: string) => new Tenant(useNamespace(prefix));

/**
 * A fresh tenant namespace served by hookgate's operator and ingress, running as the chart runs
 * them for the calling test file (useHookgate, with `opts`).
 */
export const useServedTenant = (prefix: string, opts?: Parameters<typeof useHookgate>[1]) =>
  new ServedTenant(prefix, opts);

class ServedTenant extends Tenant {
  private readonly running: ReturnType<typeof useHookgate>;
  constructor(prefix: string, opts?: Parameters<typeof useHookgate>[1]) {
    super(useNamespace(prefix));
    this.running = useHookgate(prefix, opts);
  }
  get hg() {
    return this.running.hg;
  }
  get system(): string {
    return this.running.system;
  }
  /** The trigger's URL at the ingress. */
  readonly url = (trigger: string) => `${this.hg.url}/hooks/${this.name}/${trigger}`;
}
