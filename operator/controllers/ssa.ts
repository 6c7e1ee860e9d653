import {
  ApiException,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { statusMessage } from '../../lib/kube.ts';
import { GROUP, VERSION } from '../api/v1alpha1/index.ts';

export const FIELD_MANAGER = 'hookgate-operator';

/**
 * The generated clients pick the first patch type they list (JSON Patch), so an apply to a
 * subresource needs its Content-Type set by middleware. KubernetesObjectApi.patch takes it as a
 * parameter but cannot address `/status`.
 */
const applyContentType = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

/** The HTTP status and the API server's own message; never the request or the response body. */
export function apiError(action: string, err: unknown): Error {
  if (!(err instanceof ApiException)) return err instanceof Error ? err : new Error(String(err));
  const message = statusMessage(err);
  return Object.assign(new Error(`${action}: HTTP ${err.code}${message ? `: ${message}` : ''}`), {
    code: err.code,
    apiMessage: message,
  });
}

export const codeOf = (err: unknown) => (err as { code?: unknown })?.code;

export class Writer {
  readonly objects: KubernetesObjectApi;
  readonly custom: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  /** Server-side apply of a whole object we own (forced: this operator is the only writer of these fields). */
  async apply<T extends KubernetesObject>(obj: T): Promise<void> {
    try {
      await this.objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (err) {
      throw apiError(`apply ${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}`, err);
    }
  }

  /** Deletes an object; an object already gone is fine. */
  async delete(obj: KubernetesObject, propagationPolicy?: 'Background'): Promise<void> {
    try {
      await this.objects.delete(obj, undefined, undefined, undefined, undefined, propagationPolicy);
    } catch (err) {
      if (codeOf(err) === 404) return;
      throw apiError(`delete ${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}`, err);
    }
  }

  /**
   * Applies the fields of `status` this operator owns. The uid makes it fail rather than write a
   * status computed for an object that was deleted and re-created in the meantime.
   */
  async applyStatus(
    kind: string,
    plural: string,
    meta: { namespace: string; name: string; uid: string },
    status: object,
  ): Promise<void> {
    const { namespace, name } = meta;
    try {
      await this.custom.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          plural,
          namespace,
          name,
          fieldManager: FIELD_MANAGER,
          force: true,
          body: { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: meta, status },
        },
        applyContentType,
      );
    } catch (err) {
      throw apiError(`apply ${kind} ${namespace}/${name} status`, err);
    }
  }
}

/** JSON with sorted keys, to compare what we would write with what the cache holds. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
