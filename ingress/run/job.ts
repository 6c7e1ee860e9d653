// Builds a run (a Job and its input Secret) from an accepted delivery. Pure: no I/O, no clock.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { V1Container, V1EnvVar, V1Job, V1JobSpec, V1Secret } from '@kubernetes/client-node';
import { Annotations, API_VERSION, Labels, MANAGED_BY, WORKFLOW } from '../../operator/api/v1alpha1/index.ts';
import { type Delivery, InputTooLargeError } from '../types.ts';

/** Kubernetes caps a Secret's data at 1 MiB. */
export const MAX_INPUT_BYTES = 1024 * 1024;
export const INPUT_KEY = 'input.json';
export const INPUT_VOLUME = 'hookgate-input';

export const Env = {
  run: 'HOOKGATE_RUN',
  trigger: 'HOOKGATE_TRIGGER',
  workflow: 'HOOKGATE_WORKFLOW',
  deliveryId: 'HOOKGATE_DELIVERY_ID',
  inputFile: 'HOOKGATE_INPUT_FILE',
} as const;

export interface Run {
  job: V1Job;
  /** The input Secret, owned by the Job once its uid is known (from the create response). */
  inputSecret(jobUid: string): V1Secret;
}

export interface BuildOptions {
  maxInputBytes?: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * `<trigger cut to 40>-<16 hex>`: the same delivery of the same trigger always gets the same name, so
 * the API server's AlreadyExists is the only dedupe needed across replicas. Dots (allowed in trigger
 * names) become dashes so the name is a DNS label, as pod host names need.
 */
export function runName(namespace: string, trigger: string, deliveryId: string): string {
  const hash = sha256(`${namespace}/${trigger}\n${deliveryId}`).slice(0, 16);
  return `${trigger.slice(0, 40).replaceAll('.', '-')}-${hash}`;
}

export const inputSecretName = (run: string) => `${run}-input`;

/** Label values hold at most 63 characters and must end alphanumeric. */
const labelValue = (s: string) => s.slice(0, 63).replace(/[^A-Za-z0-9]+$/, '');

export function buildRun(delivery: Delivery, opts: BuildOptions = {}): Run {
  const { route, deliveryId } = delivery;
  const input = JSON.stringify(delivery.input ?? null);
  const max = opts.maxInputBytes ?? MAX_INPUT_BYTES;
  const size = Buffer.byteLength(input);
  if (size > max) throw new InputTooLargeError(`the mapped input is ${size} bytes, more than ${max}`);

  const { workflow } = route;
  const template = workflow.spec.jobTemplate;
  const name = runName(route.namespace, route.name, deliveryId);
  const inputPath = workflow.spec.input.path;
  const labels = {
    [Labels.managedBy]: MANAGED_BY,
    [Labels.workflow]: labelValue(workflow.name),
    [Labels.trigger]: labelValue(route.name),
    [Labels.delivery]: sha256(deliveryId).slice(0, 63),
  };

  // A copy: the template belongs to the route, which concurrent requests share.
  const spec = structuredClone(template.spec) as unknown as V1JobSpec;
  spec.template.spec ??= { containers: [] };
  const pod = spec.template.spec;
  pod.volumes = [
    ...(pod.volumes ?? []).filter((v) => v.name !== INPUT_VOLUME),
    {
      name: INPUT_VOLUME,
      secret: {
        secretName: inputSecretName(name),
        items: [{ key: INPUT_KEY, path: posix.basename(inputPath) }],
      },
    },
  ];
  const env: V1EnvVar[] = [
    { name: Env.run, value: name },
    { name: Env.trigger, value: route.name },
    { name: Env.workflow, value: workflow.name },
    { name: Env.deliveryId, value: deliveryId },
    { name: Env.inputFile, value: inputPath },
  ];
  const chosen = workflow.spec.input.containers;
  const receives = (c: V1Container) => !chosen || chosen.includes(c.name);
  for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])].filter(receives)) {
    c.env = [...(c.env ?? []).filter((e) => !env.some((o) => o.name === e.name)), ...env];
    c.volumeMounts = [
      ...(c.volumeMounts ?? []).filter((m) => m.name !== INPUT_VOLUME),
      { name: INPUT_VOLUME, mountPath: posix.dirname(inputPath), readOnly: true },
    ];
  }

  const job: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: route.namespace,
      labels: { ...template.metadata?.labels, ...labels },
      annotations: { ...template.metadata?.annotations, [Annotations.deliveryId]: deliveryId },
      // No blockOwnerDeletion: setting it needs update on workflows/finalizers, which the ingress lacks
      // (OwnerReferencesPermissionEnforcement); garbage collection works without it.
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: WORKFLOW.kind,
          name: workflow.name,
          uid: workflow.uid,
          controller: true,
        },
      ],
    },
    spec,
  };

  const data = Buffer.from(input).toString('base64');
  return {
    job,
    inputSecret: (jobUid) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: {
        name: inputSecretName(name),
        namespace: route.namespace,
        labels,
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: jobUid, controller: true }],
      },
      data: { [INPUT_KEY]: data },
    }),
  };
}
