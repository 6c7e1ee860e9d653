// What the caches keep of an object, applied as it arrives (informer transform). At 10,000 triggers
// and 10,000 runs whole objects were most of both components' heap (BENCHMARKS.md, bench-scale).
import type { KubernetesObject, V1Job, V1ObjectMeta } from '@kubernetes/client-node';
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
  'labels',
  'ownerReferences',
];

type JobCondition = NonNullable<NonNullable<V1Job['status']>['conditions']>[number];
const CONDITION: readonly (keyof JobCondition)[] = ['type', 'status', 'lastTransitionTime'];
const CONDITION_FAILED: readonly (keyof JobCondition)[] = [...CONDITION, 'message'];

/**
 * A run's Job as the caches need it: identity, labels, owner, hookgate's annotations, and how it
 * finished. Not the spec (the pod template with its env and volumes is most of a Job), nor the
 * other annotations or condition details. `lib/run.ts` (terminal, runSeconds, publishedTermination)
 * and the Workflow reconciler's `planRuns` read nothing else.
 */
export function runView(job: V1Job): V1Job {
  const annotations = job.metadata?.annotations;
  const ours = annotations && Object.entries(annotations).filter(([k]) => k.startsWith('hookgate.io/'));
  const status = job.status;
  return {
    metadata: {
      ...pick(job.metadata, META),
      ...(ours?.length ? { annotations: Object.fromEntries(ours) } : {}),
    },
    ...(status
      ? {
          status: {
            ...pick(status, ['startTime', 'completionTime', 'ready', 'succeeded']),
            ...(status.conditions
              ? {
                  // A Failed condition's message is what status shows when the pod left none.
                  conditions: status.conditions.map((c) =>
                    pick(c, c.type === 'Failed' ? CONDITION_FAILED : CONDITION),
                  ) as NonNullable<V1Job['status']>['conditions'],
                }
              : {}),
          },
        }
      : {}),
  };
}
