// What the end-to-end tests (test/e2e-*.test.ts) share: hookgate's operator and ingress running
// as the chart runs them in a namespace of their own, started once per file by `useHookgate()`, a
// namespace for the objects, and the reads and sends the tests make.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { BatchV1Api, CoreV1Api, CustomObjectsApi, type V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect } from 'vitest';
import {
  GROUP,
  Labels,
  ROUTE_KEY,
  type Route,
  VERSION,
  WEBHOOK_TRIGGER,
  type WebhookTrigger,
} from '../api/v1alpha1/index.ts';
import { INPUT_KEY } from '../lib/run.ts';
import { type Hookgate, startHookgate } from './harness/index.ts';
import { clusterInfo, kubeConfig, kubectl, useNamespace, waitFor } from './helpers.ts';

export const ROOT = resolve(import.meta.dirname, '..');
export let app: { readonly name: string };
export let system: string;
export let hg: Hookgate;

/** The objects' namespace and hookgate, started before a file's tests and stopped after them. */
export function useHookgate() {
  app = useNamespace('e2e');
  system = `hookgate-system-e2e-${randomBytes(3).toString('hex')}`;
  beforeAll(async () => {
    hg = await startHookgate(clusterInfo(), { namespace: system });
  });
  afterAll(async () => {
    await hg?.stop();
    await kubectl(['delete', 'namespace', system, '--wait=false', '--ignore-not-found']);
  });
}

// ---------------------------------------------------------------------------------------------
// Objects and reads

export type Obj = Record<string, unknown>;

export async function apply(objects: Obj[]) {
  const r = await kubectl(['apply', '-n', app.name, '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
  if (r.code !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
}

export function workflow(name: string, podMeta: Obj = {}, extra: Obj = {}): Obj {
  return {
    apiVersion: 'hookgate.io/v1alpha1',
    kind: 'Workflow',
    metadata: { name },
    spec: {
      jobTemplate: {
        spec: {
          backoffLimit: 0,
          template: {
            metadata: podMeta,
            spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.37' }] },
          },
        },
      },
      ...extra,
    },
  };
}

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

export async function getTrigger(name: string): Promise<WebhookTrigger> {
  return (await custom().getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: WEBHOOK_TRIGGER.plural,
    namespace: app.name,
    name,
  })) as WebhookTrigger;
}

/** Waits until the trigger is Ready for its current generation and has a URL. */
export function ready(name: string): Promise<WebhookTrigger> {
  return waitFor(
    async () => {
      const t = await getTrigger(name);
      const cond = t.status?.conditions?.find((c) => c.type === 'Ready');
      return (
        cond?.status === 'True' &&
        t.status?.observedGeneration === t.metadata.generation &&
        t.status?.url !== undefined &&
        t
      );
    },
    { what: `${name} Ready` },
  );
}

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

export const hmacHex = (key: string, data: string) => createHmac('sha256', key).update(data).digest('hex');
export const JSON_CT = { 'Content-Type': 'application/json' };
