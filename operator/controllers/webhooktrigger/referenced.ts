import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { apiPath, errorMessage, isNotFound, type KubeClient, SECRETS } from '../../../lib/kube.ts';
import type { Cache, ObjectKey } from '../../runtime/types.ts';

/** How the trigger reconciler reads Secrets of the watched namespaces (docs/design.md, Credentials). */
export interface TriggerSecrets {
  /** Generated credentials Secrets, with data (CREDENTIAL_SECRETS). */
  credentials: Cache<V1Secret>;
  /** Every Secret, identity only: namespace, name, uid, resourceVersion, controller (SECRET_METADATA). */
  identities: Cache<KubernetesObject>;
  /** Values of user-referenced Secrets, read on demand. */
  values: ReferencedSecrets;
  /** One Secret read whole from the API server. */
  get: SecretGetter;
}

/** One Secret read from the API server; undefined when it does not exist. */
export type SecretGetter = (key: ObjectKey) => Promise<V1Secret | undefined>;

export function secretGetter(client: KubeClient): SecretGetter {
  return async ({ namespace, name }) => {
    try {
      return await client.request<V1Secret>({
        method: 'GET',
        path: apiPath({ ...SECRETS, namespace, name }),
      });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      // errorMessage keeps the status and the server's message, never a response body.
      throw new Error(`read Secret ${namespace}/${name}: ${errorMessage(err)}`);
    }
  };
}

/** What a referenced Secret holds under one key: `exists` false when the Secret itself is gone. */
export interface KeyValue {
  exists: boolean;
  value?: string;
}

/** Values larger than this are read again on every reconcile instead of being kept. */
const MAX_KEPT_BYTES = 4096;

/**
 * Values of user-referenced Secrets, read on demand. Only the referenced key's value is kept,
 * per (namespace, name, key) and tagged with the resourceVersion it was read at, in a bounded
 * least-recently-used map: the metadata watch tells the current resourceVersion, so an unchanged
 * Secret costs no API call and a changed one is read again.
 */
export class ReferencedSecrets {
  private readonly kept = new Map<string, { resourceVersion: string; value?: string }>();

  constructor(
    private readonly get: SecretGetter,
    private readonly maxEntries = 512,
  ) {}

  async value(key: ObjectKey, field: string, resourceVersion: string): Promise<KeyValue> {
    const id = `${key.namespace}/${key.name}\0${field}`;
    const hit = this.kept.get(id);
    if (hit && hit.resourceVersion === resourceVersion) {
      this.kept.delete(id);
      this.kept.set(id, hit);
      return { exists: true, value: hit.value };
    }
    this.kept.delete(id);
    const secret = await this.get(key);
    if (!secret) return { exists: false };
    const raw = secret.data?.[field];
    const value = raw === undefined ? undefined : Buffer.from(raw, 'base64').toString('utf8');
    const rv = secret.metadata?.resourceVersion;
    if (rv && (value?.length ?? 0) <= MAX_KEPT_BYTES) {
      this.kept.set(id, { resourceVersion: rv, value });
      if (this.kept.size > this.maxEntries) this.kept.delete(this.kept.keys().next().value!);
    }
    return { exists: true, value };
  }

  /** Entries kept (for tests). */
  get size(): number {
    return this.kept.size;
  }
}
