import type { KubernetesObject } from '@kubernetes/client-node';
import { GROUP, VERSION, WORKFLOW_LISTING } from '../../api/v1alpha1/index.ts';
import {
  APPLY_PATCH,
  apiError,
  apiPath,
  isConflict,
  isNotFound,
  JOBS,
  type KubeClient,
  metadataAccept,
  SECRETS,
  statusPath,
} from '../../lib/kube.ts';

export const FIELD_MANAGER = 'hookgate-operator';

/** The kinds the operator writes whole, by kind. */
const RESOURCES: Record<string, { group: string; version: string; plural: string }> = {
  Secret: SECRETS,
  Job: JOBS,
  [WORKFLOW_LISTING.kind]: { group: GROUP, version: VERSION, plural: WORKFLOW_LISTING.plural },
};

function pathOf(obj: KubernetesObject): string {
  const r = RESOURCES[obj.kind ?? ''];
  if (!r) throw new Error(`the operator does not write ${obj.kind}`);
  return apiPath({ ...r, namespace: obj.metadata?.namespace, name: obj.metadata?.name ?? '' });
}

/**
 * The operator's writes, each a single API call with a deadline. No apply reads the answer, so each
 * asks for the object's metadata only: the API server encodes, and this process parses, a fraction.
 */
export class Writer {
  readonly client: KubeClient;

  constructor(client: KubeClient) {
    this.client = client;
  }

  /** Server-side apply of a whole object we own (forced: this operator is the only writer of these fields). */
  async apply<T extends KubernetesObject>(obj: T): Promise<void> {
    try {
      await this.client.request({
        accept: metadataAccept(),
        method: 'PATCH',
        path: pathOf(obj),
        query: { fieldManager: FIELD_MANAGER, force: 'true' },
        contentType: APPLY_PATCH,
        body: obj,
      });
    } catch (err) {
      throw apiError(`apply ${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}`, err);
    }
  }

  /**
   * Deletes an object; an object already gone is fine, and so, with a `uid` precondition, is one that
   * was replaced by another of the same name (409).
   */
  async delete(obj: KubernetesObject, propagationPolicy?: 'Background', uid?: string): Promise<void> {
    const body = {
      ...(propagationPolicy ? { propagationPolicy } : {}),
      ...(uid ? { preconditions: { uid } } : {}),
    };
    try {
      await this.client.request({
        method: 'DELETE',
        path: pathOf(obj),
        ...(Object.keys(body).length > 0 ? { body } : {}),
      });
    } catch (err) {
      if (isNotFound(err) || (uid && isConflict(err))) return;
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
      await this.client.request({
        accept: metadataAccept(),
        method: 'PATCH',
        path: statusPath(plural, namespace, name),
        query: { fieldManager: FIELD_MANAGER, force: 'true' },
        contentType: APPLY_PATCH,
        body: { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: meta, status },
      });
    } catch (err) {
      throw apiError(`apply ${kind} ${namespace}/${name} status`, err);
    }
  }
}
