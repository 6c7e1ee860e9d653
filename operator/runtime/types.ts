import type { KubernetesObject } from '@kubernetes/client-node';
import type { Cache, ListWatch, ObjectKey } from '../../lib/informer.ts';
import type { KubeClient } from '../../lib/kube.ts';
import type { KubeAccess } from '../../lib/kubeconfig.ts';
import type { Logger } from '../../lib/log.ts';

export { type Cache, keyOf, keyString, type ObjectKey } from '../../lib/informer.ts';

/** What a reconcile asks of the queue. Transient errors are thrown (and retried with backoff). */
export interface Result {
  /** Reconcile this key again after this many milliseconds. */
  requeueAfter?: number;
  /** Reconcile again with the failure backoff, without counting as an error (ignored if requeueAfter is set). */
  requeue?: boolean;
  /**
   * A configuration error (Stalled, status says why): not retried until the object or a dependency
   * changes, and counted as `result="terminal"`. The reason, for the log.
   */
  terminal?: string;
}

export interface Reconciler {
  /** The controller name used in metrics and logs, e.g. "webhooktrigger". */
  readonly name: string;
  /**
   * `log` carries the keys every line of this reconcile is found by: `controller`, `namespace`,
   * `name` and `reconcileID` (controller-runtime's); errors go under `err`.
   */
  reconcile(key: ObjectKey, log: Logger): Promise<Result | undefined>;
}

/**
 * A kind the runtime lists and watches. One informer is shared per (resource, labelSelector,
 * namespaces), so two controllers asking for the same thing share one watch and one cache.
 */
export interface Resource extends ListWatch {
  kind: string;
  /**
   * Namespaces to watch. Default: the operator's watched namespaces (`--namespaces`, all when
   * empty). Give e.g. `[config.ingressNamespace]` for objects the operator keeps in one place.
   */
  namespaces?: readonly string[];
}

/** Maps an event on a watched object to the keys of the controller's own objects to reconcile. */
export interface Watch {
  resource: Resource;
  /** Called for add, update (old and new object) and delete (last known state); return [] to ignore. */
  map(obj: KubernetesObject): ObjectKey[];
  /**
   * Whether an update changed anything the controller reads of the object (controller-runtime's
   * predicates); an update it answers false for maps to nothing. Default: every update counts.
   * Adds and deletes always count.
   */
  changed?(oldObj: KubernetesObject, newObj: KubernetesObject): boolean;
}

export interface ControllerOptions {
  /** Every event on this resource enqueues the object's own key (updates: those `changed` lets through). */
  for: Resource;
  /** Updates of `for` objects that need a reconcile; default: every update. */
  changed?(oldObj: KubernetesObject, newObj: KubernetesObject): boolean;
  watches?: Watch[];
  reconciler: Reconciler;
  /** Concurrent reconciles; a key is never reconciled by two workers at once. Default 1. */
  workers?: number;
}

/** Keeps `hookgate_condition{kind,namespace,name,type,status}` current for one object. */
export interface ConditionMetrics {
  /** Replaces every series of this object with its current conditions (1 per condition). */
  set(kind: string, key: ObjectKey, conditions: readonly { type: string; status: string }[]): void;
  /** Drops the object's series; call when the object is gone. */
  delete(kind: string, key: ObjectKey): void;
}

/** What a controller's `register()` may use of the manager (see manager.ts). */
export interface ControllerManager {
  readonly kubeConfig: KubeAccess;
  /** Every API call a controller makes goes through it (deadline, kept-alive connection). */
  readonly client: KubeClient;
  readonly log: Logger;
  readonly conditions: ConditionMetrics;
  /** Read side of the shared informer for this resource, created on first use; synced before any reconcile. */
  cache<T extends KubernetesObject>(resource: Resource): Cache<T>;
  /** Registers a controller; call before `start()`. */
  add(options: ControllerOptions): void;
}
