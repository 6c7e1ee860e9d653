// Kubernetes Events (events.k8s.io/v1) as both components write them: what a person reads in
// `kubectl describe`. Fire and forget, like client-go's recorder: an Event that cannot be written
// is logged and must not fail or slow what emitted it.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubernetesObject } from '@kubernetes/client-node';
import { apiError, apiPath, type KubeClient } from './kube.ts';
import type { Logger } from './log.ts';

export type EventType = 'Normal' | 'Warning';

/** Notes must never contain a credential, nor anything a webhook sender sent. */
export interface EventRecorder {
  record(regarding: KubernetesObject, type: EventType, reason: string, note: string, action?: string): void;
}

/** Events reported by `controller` (the component's field manager), instance = the pod. */
export function eventRecorder(client: KubeClient, log: Logger, controller: string): EventRecorder {
  const instance = process.env.POD_NAME ?? hostname();
  return {
    record(regarding, type, reason, note, action = reason) {
      const { namespace = 'default', name = '', uid } = regarding.metadata ?? {};
      client
        .request({
          method: 'POST',
          path: apiPath({ group: 'events.k8s.io', version: 'v1', plural: 'events', namespace }),
          body: {
            // As client-go names them; the API server rejects a generateName ending in '.'.
            metadata: { name: `${name.slice(0, 236)}.${randomBytes(8).toString('hex')}`, namespace },
            eventTime: new Date().toISOString().replace('Z', '000Z'),
            reportingController: controller,
            reportingInstance: instance,
            action,
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
