import http from 'node:http';
import https from 'node:https';
import {
  ApiException,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
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
  let message = '';
  try {
    message = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body)?.message ?? '';
  } catch {
    // not a Status object: the code alone says enough
  }
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

/**
 * A raw JSON request. The generated clients serialise through their models, which drop unknown
 * fields; a dry run must send the user's template exactly as written for the server to judge it.
 */
export async function requestJSON(
  kc: KubeConfig,
  method: string,
  path: string,
  query: Record<string, string>,
  body: unknown,
): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(cluster.server + path);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const payload = Buffer.from(JSON.stringify(body));
  const opts: https.RequestOptions = {
    method,
    headers: {
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'Content-Length': payload.length,
    },
    timeout: 30_000,
  };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'http:' ? http : https).request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) resolve(text ? JSON.parse(text) : undefined);
        else reject(new ApiException(code, `${method} ${path}`, text, {}));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}
