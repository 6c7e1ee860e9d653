import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubernetesObject } from '@kubernetes/client-node';
import { type Condition, ConditionType } from '../../api/v1alpha1/index.ts';
import { apiError, apiPath, type KubeClient } from '../../lib/kube.ts';
import type { Logger } from '../../lib/log.ts';
import { findCondition, type Summary } from './conditions.ts';
import { FIELD_MANAGER } from './ssa.ts';

export type EventType = 'Normal' | 'Warning';

/** What a person reads in `kubectl describe`. Notes must never contain a credential. */
export interface EventRecorder {
  record(regarding: KubernetesObject, type: EventType, reason: string, note: string): void;
}

/**
 * events.k8s.io/v1 Events. Fire and forget, like client-go's recorder: an Event that cannot be
 * written is logged and must not fail or slow the reconcile that emitted it.
 */
export function eventRecorder(client: KubeClient, log: Logger): EventRecorder {
  const instance = process.env.POD_NAME ?? hostname();
  return {
    record(regarding, type, reason, note) {
      const { namespace = 'default', name = '', uid } = regarding.metadata ?? {};
      client
        .request({
          method: 'POST',
          path: apiPath({ group: 'events.k8s.io', version: 'v1', plural: 'events', namespace }),
          body: {
            // As client-go names them; the API server rejects a generateName ending in '.'.
            metadata: { name: `${name.slice(0, 236)}.${randomBytes(8).toString('hex')}`, namespace },
            eventTime: new Date().toISOString().replace('Z', '000Z'),
            reportingController: FIELD_MANAGER,
            reportingInstance: instance,
            action: reason,
            reason,
            type,
            note: note.slice(0, 1024),
            regarding: { apiVersion: regarding.apiVersion, kind: regarding.kind, namespace, name, uid },
          },
        })
        .catch((err: unknown) =>
          log.warn(
            { reason, namespace, name, err: apiError('create Event', err).message },
            'event not recorded',
          ),
        );
    },
  };
}

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
