import type { V1Secret } from '@kubernetes/client-node';
import { type OperatorTriggerStatus, WEBHOOK_TRIGGER } from '../../../api/v1alpha1/index.ts';
import {
  apiError,
  apiPath,
  isConflict,
  type KubeClient,
  metadataAccept,
  SECRETS,
} from '../../../lib/kube.ts';
import { FIELD_MANAGER, Writer } from '../ssa.ts';

/** The status fields the operator writes: all but the ingress's (`OperatorTriggerStatus`). */
export type OwnedStatus = Partial<OperatorTriggerStatus>;

/** Every API write the WebhookTrigger reconciler makes. */
export interface TriggerApi {
  /** Creates a Secret; fails if it exists, so generated credentials are never overwritten. */
  createSecret(secret: V1Secret): Promise<void>;
  /** Server-side apply; a `metadata.resourceVersion` in the object makes it conditional. */
  applySecret(secret: V1Secret): Promise<void>;
  /** With `uid`: only that very Secret (a capture replaced meanwhile is another's to judge). */
  deleteSecret(namespace: string, name: string, uid?: string): Promise<void>;
  applyStatus(meta: { namespace: string; name: string; uid: string }, status: OwnedStatus): Promise<void>;
}

export function triggerApi(client: KubeClient): TriggerApi {
  const writer = new Writer(client);
  return {
    async createSecret(secret) {
      const { namespace = '', name = '' } = secret.metadata ?? {};
      try {
        await client.request({
          method: 'POST',
          path: apiPath({ ...SECRETS, namespace }),
          query: { fieldManager: FIELD_MANAGER },
          accept: metadataAccept(),
          body: secret,
        });
      } catch (err) {
        if (isConflict(err))
          throw new Error(`Secret ${namespace}/${name} exists but is not in the cache yet`);
        throw apiError(`create Secret ${namespace}/${name}`, err);
      }
    },
    applySecret: (secret) => writer.apply(secret),
    deleteSecret: (namespace, name, uid) =>
      writer.delete({ apiVersion: 'v1', kind: 'Secret', metadata: { namespace, name } }, undefined, uid),
    applyStatus: (meta, status) =>
      writer.applyStatus(WEBHOOK_TRIGGER.kind, WEBHOOK_TRIGGER.plural, meta, status),
  };
}
