import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { WEBHOOK_TRIGGER, type WebhookTriggerStatus } from '../../api/v1alpha1/index.ts';
import { apiError, codeOf, FIELD_MANAGER, Writer } from '../ssa.ts';

/** Every API write the WebhookTrigger reconciler makes. */
export interface TriggerApi {
  /** Creates a Secret; fails if it exists, so generated credentials are never overwritten. */
  createSecret(secret: V1Secret): Promise<void>;
  /** Server-side apply; a `metadata.resourceVersion` in the object makes it conditional. */
  applySecret(secret: V1Secret): Promise<void>;
  deleteSecret(namespace: string, name: string): Promise<void>;
  applyStatus(
    meta: { namespace: string; name: string; uid: string },
    status: Partial<Omit<WebhookTriggerStatus, 'lastTriggeredTime'>>,
  ): Promise<void>;
}

export function triggerApi(kc: KubeConfig): TriggerApi {
  const writer = new Writer(kc);
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async createSecret(secret) {
      const { namespace = '', name = '' } = secret.metadata ?? {};
      try {
        await core.createNamespacedSecret({ namespace, body: secret, fieldManager: FIELD_MANAGER });
      } catch (err) {
        if (codeOf(err) === 409)
          throw new Error(`Secret ${namespace}/${name} exists but is not in the cache yet`);
        throw apiError(`create Secret ${namespace}/${name}`, err);
      }
    },
    applySecret: (secret) => writer.apply(secret),
    deleteSecret: (namespace, name) =>
      writer.delete({ apiVersion: 'v1', kind: 'Secret', metadata: { namespace, name } }),
    applyStatus: (meta, status) =>
      writer.applyStatus(WEBHOOK_TRIGGER.kind, WEBHOOK_TRIGGER.plural, meta, status),
  };
}
