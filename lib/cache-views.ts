// What the caches keep of an object, applied as it arrives (informer transform). At 10,000 triggers
// and 10,000 runs whole objects were most of both components' heap (BENCHMARKS.md, bench-scale).
import type { KubernetesObject, V1Job, V1ObjectMeta } from '@kubernetes/client-node';
import { Annotations, Labels } from '../api/v1alpha1/index.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Without kubectl's last-applied annotation, a second copy of the whole object on everything
 * `kubectl apply` (or a GitOps tool in client-side mode) wrote. Nothing of ours reads it.
 */
export function withoutLastApplied<T extends KubernetesObject>(obj: T): T {
  const annotations = obj.metadata?.annotations;
  if (!annotations || !(LAST_APPLIED in annotations)) return obj;
  const { [LAST_APPLIED]: _, ...rest } = annotations;
  return { ...obj, metadata: { ...obj.metadata, annotations: rest } };
}

/** Strings many cached objects repeat, one copy each; cleared when full, so it never grows. */
const common = new Map<string, string>();
const COMMON_MAX = 1024;
function once(s: string): string {
  const seen = common.get(s);
  if (seen !== undefined) return seen;
  if (common.size >= COMMON_MAX) common.clear();
  common.set(s, s);
  return s;
}

/**
 * The object with one copy of the strings every trigger or Workflow repeats (JSON.parse makes a new
 * string of each): apiVersion, kind, and its conditions' type, status, reason and transition time
 * (objects reconciled in the same second share it). A fifth of a cached trigger (3 of 15 MiB for
 * 10,000). Changed in place: only which copy of an equal string is held.
 */
export function withCommonStrings<T extends KubernetesObject>(obj: T): T {
  if (obj.apiVersion !== undefined) obj.apiVersion = once(obj.apiVersion);
  if (obj.kind !== undefined) obj.kind = once(obj.kind);
  const conditions = (obj as { status?: { conditions?: unknown } }).status?.conditions;
  if (Array.isArray(conditions))
    for (const c of conditions as Record<string, unknown>[]) {
      if (typeof c !== 'object' || c === null) continue;
      for (const k of ['type', 'status', 'reason', 'lastTransitionTime'] as const)
        if (typeof c[k] === 'string') c[k] = once(c[k]);
    }
  return obj;
}

/** The labels of a run that are read (label values are at most 63 characters). */
const RUN_LABELS = [Labels.workflow, Labels.trigger, Labels.delivery];

/**
 * The annotations of a run that are read, each with the longest value hookgate writes (a delivery id
 * of 1024 characters, an RFC 3339 time, a result with a 4096-character message, escaped): a longer
 * value is not ours, and is dropped.
 */
const RUN_ANNOTATIONS: Record<string, number> = {
  [Annotations.deliveryId]: 1024,
  [Annotations.replayUntil]: 64,
  [Annotations.result]: 32 * 1024,
};
const MAX_CONDITION_MESSAGE = 4096;

type JobCondition = NonNullable<NonNullable<V1Job['status']>['conditions']>[number];

function runLabels(labels: Record<string, string> | undefined): Record<string, string> | undefined {
  const kept = RUN_LABELS.filter((k) => labels?.[k] !== undefined).map((k) => [k, labels![k]!]);
  return kept.length ? Object.fromEntries(kept) : undefined;
}

function runAnnotations(annotations: Record<string, string> | undefined): Record<string, string> | undefined {
  const kept = Object.entries(RUN_ANNOTATIONS).flatMap(([k, max]) => {
    const v = annotations?.[k];
    return v !== undefined && v.length <= max ? [[k, v]] : [];
  });
  return kept.length ? Object.fromEntries(kept) : undefined;
}

/** The condition a run ended with (`lib/run.ts` terminal: the first Complete or Failed that is True). */
function endCondition(conditions: JobCondition[] | undefined): JobCondition | undefined {
  const end = conditions?.find((c) => c.status === 'True' && (c.type === 'Complete' || c.type === 'Failed'));
  if (!end) return undefined;
  // A Failed condition's message is what status shows when the pod left none.
  const message = end.type === 'Failed' ? end.message?.slice(0, MAX_CONDITION_MESSAGE) : undefined;
  return { type: end.type, status: end.status, lastTransitionTime: end.lastTransitionTime, message };
}

/**
 * A run's Job as the caches need it: identity, the labels and annotations that are read (their
 * values bounded), the controller reference, and how it finished (of its conditions, only the one
 * it ended with). Not the spec (the pod template with its env and volumes is most of a Job), nor
 * anything else: anyone who may create Jobs can label one as a run and pad it with 256 KiB of
 * annotations, and both components cache every run. `lib/run.ts` (terminal, runSeconds,
 * publishedTermination), the launcher and the Workflow reconciler's `planRuns` read nothing else.
 *
 * Every view has the same fields (unset ones undefined), built as literals: objects built by
 * spreading a varying set of fields each got a hidden class of their own in V8, two per run, ~0.7
 * KB (heap snapshot at 10,000 runs).
 */
export function runView(job: V1Job): V1Job {
  const m = job.metadata;
  const status = job.status;
  const end = endCondition(status?.conditions);
  return {
    metadata: {
      name: m?.name,
      namespace: m?.namespace,
      uid: m?.uid,
      resourceVersion: m?.resourceVersion,
      generation: m?.generation,
      creationTimestamp: m?.creationTimestamp,
      deletionTimestamp: m?.deletionTimestamp,
      labels: runLabels(m?.labels),
      annotations: runAnnotations(m?.annotations),
      ownerReferences: controllerOf(m),
    },
    status: status && {
      startTime: status.startTime,
      completionTime: status.completionTime,
      ready: status.ready,
      succeeded: status.succeeded,
      conditions: end && [end],
    },
  };
}

/** The object's controller reference (at most one owner is the controller). */
export const controllerRef = (m: V1ObjectMeta | undefined) => m?.ownerReferences?.find((r) => r.controller);

function controllerOf(m: V1ObjectMeta | undefined): V1ObjectMeta['ownerReferences'] {
  const controller = controllerRef(m);
  return controller && [controller];
}
