// What the caches keep of an object, applied as it arrives (informer transform). At 10,000 triggers
// and 10,000 runs whole objects were most of both components' heap (BENCHMARKS.md, bench-scale).
import type { KubernetesObject, V1Job, V1ObjectMeta } from '@kubernetes/client-node';
import { Annotations, Labels } from '../api/v1alpha1/index.ts';
import { pick } from './pick.ts';

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

const META: readonly (keyof V1ObjectMeta)[] = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
];

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
const MAX_CONDITIONS = 8;
const MAX_CONDITION_MESSAGE = 4096;

type JobCondition = NonNullable<NonNullable<V1Job['status']>['conditions']>[number];
const CONDITION: readonly (keyof JobCondition)[] = ['type', 'status', 'lastTransitionTime'];
const CONDITION_FAILED: readonly (keyof JobCondition)[] = [...CONDITION, 'message'];

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

/**
 * A run's Job as the caches need it: identity, the labels and annotations that are read (their
 * values bounded), the controller reference, and how it finished. Not the spec (the pod template
 * with its env and volumes is most of a Job), nor anything else: anyone who may create Jobs can
 * label one as a run and pad it with 256 KiB of annotations, and both components cache every run.
 * `lib/run.ts` (terminal, runSeconds, publishedTermination), the launcher and the Workflow
 * reconciler's `planRuns` read nothing else.
 */
export function runView(job: V1Job): V1Job {
  const m = job.metadata;
  const labels = runLabels(m?.labels);
  const annotations = runAnnotations(m?.annotations);
  const controller = m?.ownerReferences?.find((r) => r.controller);
  const status = job.status;
  return {
    metadata: {
      ...pick(m, META),
      ...(labels ? { labels } : {}),
      ...(annotations ? { annotations } : {}),
      ...(controller ? { ownerReferences: [controller] } : {}),
    },
    ...(status
      ? {
          status: {
            ...pick(status, ['startTime', 'completionTime', 'ready', 'succeeded']),
            ...(status.conditions
              ? {
                  // A Failed condition's message is what status shows when the pod left none.
                  conditions: status.conditions.slice(0, MAX_CONDITIONS).map((c) => {
                    const kept = pick(c, c.type === 'Failed' ? CONDITION_FAILED : CONDITION);
                    if (kept.message) kept.message = kept.message.slice(0, MAX_CONDITION_MESSAGE);
                    return kept;
                  }) as NonNullable<V1Job['status']>['conditions'],
                }
              : {}),
          },
        }
      : {}),
  };
}
