// The one way both reconcilers write status (Flux's deferred patcher): snapshot the fields this
// operator owns when the reconcile starts, compute, then apply once at the end, only if something
// changed, through the /status subresource.
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import type { Condition } from '../../api/v1alpha1/index.ts';
import { errorMessage } from '../../lib/kube.ts';
import type { Logger } from '../../lib/log.ts';
import { pick } from '../../lib/pick.ts';
import { sameJson } from '../../lib/same-json.ts';
import { type ConditionMetrics, keyOf, keyString, type Result } from '../runtime/types.ts';
import { markFailed, type Summary, summarize } from './conditions.ts';
import { type EventRecorder, ReadyAnnouncer } from './events.ts';

type Obj = KubernetesObject & { metadata: V1ObjectMeta; status?: object };
/** What every status this patcher writes has. */
type Conditioned = { conditions?: Condition[]; observedGeneration?: number };
type Meta = { namespace: string; name: string; uid: string };

/** What a patcher writes with: a reconciler's own dependencies. */
export interface StatusPatcherDeps<S extends Conditioned> {
  api: { applyStatus(meta: Meta, status: Partial<S>): Promise<void> };
  conditions: ConditionMetrics;
  events: EventRecorder;
  log: Logger;
}

/** How long a status this replica wrote stands in for a cache that has not shown it yet. */
const WRITTEN_TTL_MS = 60_000;

export class StatusPatcher<S extends Conditioned> {
  private readonly ready: ReadyAnnouncer;
  /**
   * The status last written per object, with the resourceVersion it was computed from. A reconcile
   * that runs again before the watch brings our own write (a child's event arrived first) would
   * otherwise compare against the old status and write it all again, with new transition times.
   */
  private readonly written = new Map<string, { basedOn: string; status: Partial<S>; at: number }>();

  /** `fields`: the status fields this operator owns; the rest (another manager's) is never compared or written. */
  constructor(
    private readonly kind: string,
    private readonly fields: readonly (keyof S & string)[],
    private readonly o: StatusPatcherDeps<S>,
  ) {
    this.ready = new ReadyAnnouncer(o.events);
  }

  /** The owned fields as the cache shows them now. The cached object is shared: never mutate it. */
  snapshot(obj: Obj): Partial<S> {
    const key = keyString(keyOf(obj));
    const written = this.written.get(key);
    if (written && written.basedOn === obj.metadata.resourceVersion) return written.status;
    this.written.delete(key);
    return pick(obj.status as Partial<S> | undefined, this.fields) as Partial<S>;
  }

  /**
   * Writes the conditions for `summary` plus `rest`, and what a stalled object tells the runtime: a
   * terminal result, retried only when the spec or a dependency changes.
   */
  async finish(
    obj: Obj,
    before: Partial<S>,
    summary: Summary,
    rest: Omit<Partial<S>, 'conditions' | 'observedGeneration'>,
    now: Date,
    result: Result = {},
  ): Promise<Result> {
    const generation = obj.metadata.generation ?? 0;
    const conditions = summarize(before.conditions, summary, generation, now);
    await this.write(obj, before, { ...rest, observedGeneration: generation, conditions } as Partial<S>);
    this.o.conditions.set(this.kind, keyOf(obj), conditions);
    this.ready.announce(obj, before.conditions, summary);
    return summary.stalled ? { ...result, terminal: summary.reason } : result;
  }

  /** A transient error: status says why (the rest of it unchanged) before the queue retries. */
  async fail(obj: Obj, before: Partial<S>, err: unknown, now: Date, log = this.o.log): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    const conditions = markFailed(before.conditions, message, obj.metadata.generation ?? 0, now);
    try {
      await this.write(obj, before, { ...before, conditions });
      this.o.conditions.set(this.kind, keyOf(obj), conditions);
    } catch (writeErr) {
      log.warn({ err: errorMessage(writeErr) }, 'could not record the failure in status');
    }
  }

  /** The object is gone: forget its metrics and announcements. */
  forget(key: { namespace: string; name: string }): void {
    this.o.conditions.delete(this.kind, key);
    this.ready.forget(key);
    this.written.delete(keyString(key));
  }

  private async write(obj: Obj, before: Partial<S>, status: Partial<S>): Promise<void> {
    if (sameJson(before, status)) return;
    const { namespace = '', name = '', uid = '' } = obj.metadata;
    await this.o.api.applyStatus({ namespace, name, uid }, status);
    this.remember(obj, status);
  }

  private remember(obj: Obj, status: Partial<S>): void {
    const now = Date.now();
    // Oldest first (a Map keeps insertion order): by then the watch has long shown those writes.
    for (const [k, w] of this.written) {
      if (now - w.at < WRITTEN_TTL_MS) break;
      this.written.delete(k);
    }
    const key = keyString(keyOf(obj));
    this.written.delete(key);
    const owned = Object.fromEntries(Object.entries(status).filter(([, v]) => v !== undefined));
    this.written.set(key, {
      basedOn: obj.metadata.resourceVersion ?? '',
      status: owned as Partial<S>,
      at: now,
    });
  }
}
