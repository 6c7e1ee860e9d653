// A repeated delivery whose first attempt made the Job but died before its input Secret (issue 20):
// the real launcher against the real API server restores the input from what the sender signed, never
// from what the repeat carries unsigned, and never replaces an input Secret that exists.
import { BatchV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, type RouteSchema, VERSION, WORKFLOW, WorkflowSpec } from '../api/v1alpha1/index.ts';
import { testRoute } from '../ingress/http/fakes.test-helper.ts';
import { KubeLauncher } from '../ingress/run/launcher.ts';
import type { Delivery } from '../ingress/types.ts';
import { INPUT_KEY, inputSecretName } from '../lib/run.ts';
import { kubeConfig, useNamespace, waitFor } from './helpers.ts';

const app = useNamespace('restore');
const kc = kubeConfig();
let launcher: KubeLauncher;
let route: ReturnType<typeof RouteSchema.parse>;

beforeAll(async () => {
  // Pods that never schedule: the Job never runs, so a repeat goes the create path.
  const spec = WorkflowSpec.parse({
    jobTemplate: {
      spec: {
        template: {
          spec: {
            restartPolicy: 'Never',
            nodeSelector: { nowhere: 'true' },
            containers: [{ name: 'main', image: 'busybox' }],
          },
        },
      },
    },
  });
  const wf = (await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: WORKFLOW.plural,
    namespace: app.name,
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: WORKFLOW.kind, metadata: { name: 'wf' }, spec },
  })) as { metadata: { uid: string } };
  route = testRoute({
    namespace: app.name,
    name: 'hook',
    uid: 'hook-uid',
    auth: { tokens: [{ value: 'hgt_test' }] },
    rateLimit: {},
    maxBodyBytes: 1024,
    input: { query: true },
    workflow: { name: 'wf', uid: wf.metadata.uid, spec },
  });
  launcher = new KubeLauncher(kc, {}, pino({ level: 'silent' }));
  await launcher.start();
});
afterAll(() => launcher?.stop());

/** The same signed delivery; `query` is what its request carried unsigned. */
const delivery = (query: string): Delivery => ({
  route,
  deliveryId: 'evt-1',
  key: 'signed-body-hash',
  input: { ref: 'main', _query: { branch: query } },
  restoreInput: { ref: 'main', _query: {} },
});

const core = () => kc.makeApiClient(CoreV1Api);
const inputOf = async (run: string) => {
  const s = await core().readNamespacedSecret({ namespace: app.name, name: inputSecretName(run) });
  return JSON.parse(Buffer.from(s.data![INPUT_KEY]!, 'base64').toString());
};

describe('a repeat of a delivery', () => {
  it('restores a missing input Secret from the signed mapping, not from its own unsigned query', async () => {
    const first = await launcher.launch(delivery('main'));
    expect(first.duplicate).toBe(false);
    expect(await inputOf(first.run)).toEqual({ ref: 'main', _query: { branch: 'main' } });
    // The first attempt "died" before its input: the Secret is gone, the Job is there.
    await core().deleteNamespacedSecret({ namespace: app.name, name: inputSecretName(first.run) });
    await waitFor(
      () =>
        inputOf(first.run).then(
          () => false,
          () => true,
        ),
      { what: 'input Secret gone' },
    );

    const replay = await launcher.launch(delivery('evil'));
    expect(replay).toEqual({ run: first.run, duplicate: true });
    expect(await inputOf(first.run)).toEqual({ ref: 'main', _query: {} });
    const jobs = await kc.makeApiClient(BatchV1Api).listNamespacedJob({ namespace: app.name });
    expect(jobs.items.map((j) => j.metadata?.name)).toEqual([first.run]);
  });

  it('never replaces an input Secret that exists', async () => {
    const again = await launcher.launch({ ...delivery('other'), restoreInput: { ref: 'other' } });
    expect(again.duplicate).toBe(true);
    expect(await inputOf(again.run)).toEqual({ ref: 'main', _query: {} });
  });
});
