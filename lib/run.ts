// What a run is, in one place: the Job and input Secret the ingress creates for a delivery, the very
// same Job the operator dry-runs to decide that a Workflow is Ready, and how a finished run reads.
// Pure: no I/O, no clock.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { V1Container, V1EnvVar, V1Job, V1JobSpec, V1Pod, V1Secret } from '@kubernetes/client-node';
import { Annotations, API_VERSION, Labels, MANAGED_BY, type Route, WORKFLOW } from '../api/v1alpha1/index.ts';
import { millis } from './time.ts';

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
  // OpenTelemetry's environment carrier: the run continues the request's trace.
  traceparent: 'TRACEPARENT',
  tracestate: 'TRACESTATE',
} as const;

/** What a run is built for: a trigger's namespace and name, and the Workflow it is bound to. */
export type RunTarget = Pick<Route, 'namespace' | 'name' | 'workflow'>;

/** An accepted delivery, ready to become a run. */
export interface Delivery<R extends RunTarget = RunTarget> {
  route: R;
  /** The delivery id shown to the workflow (HOOKGATE_DELIVERY_ID) and on the Job. */
  deliveryId: string;
  /** What makes two deliveries the same run (the Job name derives from it). Default: deliveryId. */
  key?: string;
  /** RFC 3339: the Job must be kept until then as the record that turns replays into duplicates. */
  replayUntil?: string;
  /** Mapped input: `{...defaults, ...payload, _query, _headers}`. */
  input: unknown;
  /** W3C trace context the run continues (the ingress's launch span), when tracing is on. */
  trace?: { traceparent: string; tracestate?: string };
}

export interface Run {
  job: V1Job;
  /** The input Secret, owned by the Job once its uid is known (from the create response). */
  inputSecret(jobUid: string): V1Secret;
}

/** The mapped input is larger than a Secret can hold. */
export class InputTooLargeError extends Error {}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * `<trigger cut to 40>-<16 hex>`: the same delivery of the same trigger always gets the same name, so
 * the API server's AlreadyExists is the only dedupe needed across replicas. Dots (allowed in trigger
 * names) become dashes so the name is a DNS label, as pod host names need.
 */
export function runName(namespace: string, trigger: string, key: string): string {
  const hash = sha256(`${namespace}/${trigger}\n${key}`).slice(0, 16);
  return `${trigger.slice(0, 40).replaceAll('.', '-')}-${hash}`;
}

export const inputSecretName = (run: string) => `${run}-input`;

/** Label values hold at most 63 characters and must end alphanumeric. */
const labelValue = (s: string) => s.slice(0, 63).replace(/[^A-Za-z0-9]+$/, '');

/**
 * The kubelet expands `$(NAME)` in env values from variables defined before (the Workflow's own
 * secretKeyRef variables among them) and turns `$$` into `$`. Values that carry sender text must
 * reach the container as sent.
 */
export const escapeEnv = (value: string) => value.replaceAll('$', '$$$$');

export function buildRun(delivery: Delivery, maxInputBytes = MAX_INPUT_BYTES): Run {
  const { route, deliveryId } = delivery;
  const input = JSON.stringify(delivery.input ?? null);
  const size = Buffer.byteLength(input);
  if (size > maxInputBytes)
    throw new InputTooLargeError(`the mapped input is ${size} bytes, more than ${maxInputBytes}`);

  const { workflow } = route;
  const template = workflow.spec.jobTemplate;
  const name = runName(route.namespace, route.name, delivery.key ?? deliveryId);
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
    { name: Env.deliveryId, value: escapeEnv(deliveryId) },
    { name: Env.inputFile, value: escapeEnv(inputPath) },
    // tracestate carries members the sender chose (validated, at most 512 characters).
    ...(delivery.trace ? [{ name: Env.traceparent, value: escapeEnv(delivery.trace.traceparent) }] : []),
    ...(delivery.trace?.tracestate
      ? [{ name: Env.tracestate, value: escapeEnv(delivery.trace.tracestate) }]
      : []),
  ];
  const traced: Record<string, string> = delivery.trace
    ? { [Annotations.traceId]: delivery.trace.traceparent.split('-')[1] ?? '' }
    : {};
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
      annotations: {
        ...template.metadata?.annotations,
        [Annotations.deliveryId]: deliveryId,
        ...(delivery.replayUntil ? { [Annotations.replayUntil]: delivery.replayUntil } : {}),
        ...traced,
      },
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
        ...(delivery.trace ? { annotations: traced } : {}),
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: jobUid, controller: true }],
      },
      data: { [INPUT_KEY]: data },
    }),
  };
}

/** The delivery id of the operator's dry runs: the Job it checks is a real run but for this id. */
export const VALIDATION_DELIVERY = 'hookgate-validation';

/**
 * The Job the ingress would create for a delivery of this Workflow (trigger name: the Workflow's
 * own, input: a placeholder), for the operator's server-side dry run. Its name is fixed, so the
 * API server's message (which names the Job) stays the same from one check to the next.
 */
export function validationRun(namespace: string, workflow: RunTarget['workflow']): V1Job {
  return buildRun({
    route: { namespace, name: workflow.name, workflow },
    deliveryId: VALIDATION_DELIVERY,
    input: {},
  }).job;
}

export type RunResult = 'Succeeded' | 'Failed';

type JobCondition = { type?: string; status?: string; lastTransitionTime?: Date | string; message?: string };

/**
 * How the run finished and the condition that says so, or undefined while it runs. Only Complete
 * and Failed count: SuccessCriteriaMet and FailureTarget precede them while pods are still ending.
 */
export function terminal(job: V1Job): { result: RunResult; condition: JobCondition } | undefined {
  for (const c of (job.status?.conditions ?? []) as JobCondition[]) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete') return { result: 'Succeeded', condition: c };
    if (c.type === 'Failed') return { result: 'Failed', condition: c };
  }
  return undefined;
}

export const finishedAs = (job: V1Job): RunResult | undefined => terminal(job)?.result;

/** Seconds from the run's start to its end (0 when unknown). */
export function runSeconds(job: V1Job): number {
  const end = terminal(job)?.condition;
  const seconds =
    (millis(job.status?.completionTime ?? end?.lastTransitionTime) -
      millis(job.status?.startTime ?? job.metadata?.creationTimestamp)) /
    1000;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : 0;
}

export interface Termination {
  exitCode?: number;
  /** The container's termination message, trimmed. */
  message?: string;
}

/** Whether a delivery's Job has run or is running: a repeat of it is then answered without a create. */
export const hasRun = (job: V1Job) =>
  finishedAs(job) !== undefined || (job.status?.ready ?? 0) > 0 || (job.status?.succeeded ?? 0) > 0;

/** Bounded as `status.recentRuns[].message` is. */
export const MAX_MESSAGE = 4096;

/**
 * Exit code and termination message of a run's newest pod that has a terminated container: a
 * failing container first, else any.
 */
export function termination(pods: readonly V1Pod[]): Termination {
  const newest = [...pods].sort(
    (a, b) => millis(b.metadata?.creationTimestamp) - millis(a.metadata?.creationTimestamp),
  );
  for (const pod of newest) {
    const states = (pod.status?.containerStatuses ?? []).flatMap((s) =>
      s.state?.terminated ? [s.state.terminated] : [],
    );
    const t = states.find((s) => s.exitCode !== 0) ?? states[0];
    if (!t) continue;
    const message = t.message?.trim().slice(0, MAX_MESSAGE);
    return { exitCode: t.exitCode, ...(message ? { message } : {}) };
  }
  return {};
}

/** The result the operator published on a finished run's Job (Annotations.result), if any. */
export function publishedTermination(job: V1Job): Termination | undefined {
  const text = job.metadata?.annotations?.[Annotations.result];
  if (text === undefined) return undefined;
  try {
    const t = JSON.parse(text) as { exitCode?: unknown; message?: unknown };
    return {
      ...(typeof t.exitCode === 'number' ? { exitCode: t.exitCode } : {}),
      ...(typeof t.message === 'string' && t.message ? { message: t.message.slice(0, MAX_MESSAGE) } : {}),
    };
  } catch {
    return {};
  }
}
