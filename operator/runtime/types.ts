import type { KubernetesObject } from '@kubernetes/client-node';

export interface ObjectKey {
  namespace: string;
  name: string;
}

export const keyOf = (o: KubernetesObject): ObjectKey => ({
  namespace: o.metadata?.namespace ?? '',
  name: o.metadata?.name ?? '',
});
export const keyString = (k: ObjectKey) => `${k.namespace}/${k.name}`;

/** What a reconcile asks of the queue. Transient errors are thrown (and retried with backoff). */
export interface Result {
  /** Reconcile this key again after this many milliseconds. */
  requeueAfter?: number;
}

export interface Reconciler {
  /** The controller name used in metrics and logs, e.g. "webhooktrigger". */
  readonly name: string;
  reconcile(key: ObjectKey): Promise<Result | undefined>;
}

/** Read access to an informer's cache. Reconcilers read objects here, never from events. */
export interface Cache<T extends KubernetesObject> {
  get(key: ObjectKey): T | undefined;
  list(namespace?: string): T[];
}
