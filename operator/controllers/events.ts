import type { KubernetesObject } from '@kubernetes/client-node';
import { type Condition, ConditionType } from '../../api/v1alpha1/index.ts';
import { type EventRecorder, eventRecorder as recorder } from '../../lib/events.ts';
import type { KubeClient } from '../../lib/kube.ts';
import type { Logger } from '../../lib/log.ts';
import { findCondition, type Summary } from './conditions.ts';
import { FIELD_MANAGER } from './ssa.ts';

export type { EventRecorder, EventType } from '../../lib/events.ts';

/** The operator's Events, reported by its field manager. */
export const eventRecorder = (client: KubeClient, log: Logger): EventRecorder =>
  recorder(client, log, FIELD_MANAGER);

/**
 * Emits an Event when an object's Ready verdict changes, and for a first verdict that is not Ready.
 * A new object turning Ready is the expected path, which its status already shows: at 10,000
 * triggers that Event was one API write in five (bench-scale). It remembers what it announced,
 * because the cache may not show this operator's own last status write yet.
 */
export class ReadyAnnouncer {
  private readonly last = new Map<string, string>();

  constructor(private readonly events: EventRecorder) {}

  announce(obj: KubernetesObject, before: readonly Condition[] | undefined, s: Summary): void {
    const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
    const prev = findCondition(before, ConditionType.Ready);
    const was = this.last.get(key) ?? (prev && `${prev.status}/${prev.reason}`);
    const now = `${s.ready ? 'True' : 'False'}/${s.reason}`;
    this.last.set(key, now);
    if (was === now || (was === undefined && s.ready)) return;
    this.events.record(obj, s.ready ? 'Normal' : 'Warning', s.reason, s.message);
  }

  forget(key: { namespace: string; name: string }): void {
    this.last.delete(`${key.namespace}/${key.name}`);
  }
}
