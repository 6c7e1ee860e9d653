// What the end-to-end tests (test/e2e-*.test.ts) share: hookgate's operator and ingress running
// as the chart runs them in a namespace of their own, started once per file by `useHookgate()`, a
// namespace for the objects, and the reads and sends the tests make.
import { createHash, createHmac } from 'node:crypto';
import { resolve } from 'node:path';
import { BatchV1Api, CoreV1Api, CustomObjectsApi, type V1Job } from '@kubernetes/client-node';
import { beforeAll, expect } from 'vitest';
import { Labels, ROUTE_KEY, type Route, type WebhookTrigger } from '../api/v1alpha1/index.ts';
import { INPUT_KEY } from '../lib/run.ts';
import type { Hookgate } from './harness/index.ts';
import { kubeConfig, waitFor } from './helpers.ts';
import { useServedTenant, workflowObject } from './objects.test-helper.ts';

export const ROOT = resolve(import.meta.dirname, '..');
export let app: ReturnType<typeof useServedTenant>;
export let system: string;
export let hg: Hookgate;

/** The objects' namespace and hookgate, started before a file's tests and stopped after them. */
export function useHookgate() {
  app = useServedTenant('e2e');
  system = app.system;
  beforeAll(() => {
    hg = app.hg;
  });
}

// ---------------------------------------------------------------------------------------------
// Objects and reads

export type Obj = Record<string, unknown>;

export const apply = (objects: Obj[]) => app.apply(...objects);

export const workflow = (name: string, podMetadata: Obj = {}, spec: Obj = {}): Obj =>
  workflowObject(name, { podMetadata, spec });

export function trigger(name: string, spec: Obj): Obj {
  return {
    apiVersion: 'hookgate.io/v1alpha1',
    kind: 'WebhookTrigger',
    metadata: { name },
    spec: { workflowRef: { name }, ...spec },
  };
}

export const custom = () => kubeConfig().makeApiClient(CustomObjectsApi);
export const core = () => kubeConfig().makeApiClient(CoreV1Api);
export const batch = () => kubeConfig().makeApiClient(BatchV1Api);

export const getTrigger = (name: string): Promise<WebhookTrigger> => app.trigger(name);

/** Waits until the trigger is Ready for its current generation (and so has a URL). */
export const ready = (name: string): Promise<WebhookTrigger> => app.ready(name);

export async function secretData(name: string, namespace = app.name): Promise<Record<string, string>> {
  const s = await core().readNamespacedSecret({ namespace, name });
  return Object.fromEntries(
    Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
}

export const credentials = (name: string) => secretData(`${name}-credentials`);

export async function jobsOf(triggerName: string): Promise<V1Job[]> {
  const list = await batch().listNamespacedJob({
    namespace: app.name,
    labelSelector: `${Labels.trigger}=${triggerName}`,
  });
  return list.items;
}

export async function inputOf(job: string): Promise<unknown> {
  const data = await secretData(`${job}-input`);
  expect(Object.keys(data)).toEqual([INPUT_KEY]);
  return JSON.parse(data[INPUT_KEY]!);
}

/** The route Secret the operator publishes for the ingress. */
export async function routeOf(name: string): Promise<Route> {
  const hash = createHash('sha256').update(`${app.name}/${name}`).digest('hex').slice(0, 16);
  const data = await secretData(`hookgate-route-${hash}`, system);
  return JSON.parse(data[ROUTE_KEY]!) as Route;
}

// ---------------------------------------------------------------------------------------------
// Sending

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export async function post(url: string, body: string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { text };
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/**
 * Sends once the ingress serves the route: a 404 (route not propagated yet) creates nothing, so it
 * is retried; any other answer is returned. `headers` is called per attempt (fresh timestamps).
 */
export function deliver(
  url: string,
  body: string,
  headers: () => Record<string, string> | Promise<Record<string, string>>,
) {
  return waitFor(
    async () => {
      const answer = await post(url, body, await headers());
      return answer.status !== 404 && answer;
    },
    { what: `a route for ${url}` },
  );
}

/** Delivers `body` to the trigger `t` with its bearer token, once its route is served. */
export async function deliverWithToken(t: WebhookTrigger, body: string): Promise<Answer> {
  const { token } = await credentials(t.metadata.name!);
  return deliver(t.status!.url!, body, () => ({ ...JSON_CT, Authorization: `Bearer ${token}` }));
}

export const hmacHex = (key: string, data: string) => createHmac('sha256', key).update(data).digest('hex');
export const JSON_CT = { 'Content-Type': 'application/json' };
