import { isDeepStrictEqual } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * An update of a controller's own object needs a reconcile when what it asks for changed: spec
 * (generation), annotations (a rotation, a reconcile request), labels, deletion. Not its status
 * (Flux's GenerationChanged plus annotations): the operator's own status writes, or the ingress's
 * lastTriggeredTime, would each cost a reconcile that finds nothing to do, queued behind real work.
 */
export const ownChanged = (a: KubernetesObject, b: KubernetesObject): boolean =>
  a.metadata?.generation !== b.metadata?.generation ||
  a.metadata?.deletionTimestamp !== b.metadata?.deletionTimestamp ||
  !isDeepStrictEqual(a.metadata?.annotations ?? {}, b.metadata?.annotations ?? {}) ||
  !isDeepStrictEqual(a.metadata?.labels ?? {}, b.metadata?.labels ?? {});
