// A secret captured from a handshake (Asana's X-Hook-Secret, trust on first use), as the ingress
// hands it to the operator: a Secret in the ingress's own namespace, the only Secret the ingress may
// create there (its admission policy says so), which the operator moves into the trigger's
// credentials Secret and deletes. Pure.
import { createHash } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { CAPTURE_KEY, Labels, labelledTrigger, triggerLabels } from '../api/v1alpha1/index.ts';

export const CAPTURE_PREFIX = 'hookgate-capture-';
/** On a capture Secret: the uid of the trigger it was captured for (a re-created trigger is another). */
export const CAPTURE_UID = 'hookgate.io/trigger-uid';

export const captureSecretName = (namespace: string, name: string) =>
  CAPTURE_PREFIX + createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, 16);

export interface CaptureTarget {
  namespace: string;
  name: string;
  uid: string;
}

export function captureSecret(trigger: CaptureTarget, ingressNamespace: string, value: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: captureSecretName(trigger.namespace, trigger.name),
      namespace: ingressNamespace,
      labels: { ...triggerLabels(trigger), [Labels.capture]: 'true' },
      annotations: { [CAPTURE_UID]: trigger.uid },
    },
    type: 'Opaque',
    data: { [CAPTURE_KEY]: Buffer.from(value, 'utf8').toString('base64') },
  };
}

/** What a capture Secret says: for which trigger, and the value; undefined when it is not one. */
export function readCapture(secret: V1Secret): (CaptureTarget & { value: string }) | undefined {
  const trigger = labelledTrigger(secret.metadata?.labels);
  const uid = secret.metadata?.annotations?.[CAPTURE_UID];
  const data = secret.data?.[CAPTURE_KEY];
  if (!trigger || !uid || data === undefined) return undefined;
  const { namespace, name } = trigger;
  if (secret.metadata?.name !== captureSecretName(namespace, name)) return undefined;
  return { namespace, name, uid, value: Buffer.from(data, 'base64').toString('utf8') };
}
