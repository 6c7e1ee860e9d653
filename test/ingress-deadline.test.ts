// Answers within the sender's patience (issue 20, item 12), against a real API server that hangs:
// the ingress's launcher talks to an API server of its own on the cluster's etcd, frozen with
// SIGSTOP as a hung server is. Every answer comes within the trigger's deadline (503 with
// Retry-After when the run could not be started in time), and the sender's retry of that delivery
// starts no second run, whether the first create landed (the server thawed) or was lost (the
// server died and came back).
import { performance } from 'node:perf_hooks';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, type Route, RouteSchema, VERSION, WORKFLOW, WorkflowSpec } from '../api/v1alpha1/index.ts';
import { buildApp } from '../ingress/app.ts';
import { KubeLauncher } from '../ingress/run/launcher.ts';
import type { ApiServer } from './harness/index.ts';
import { kubeConfig, kubectl, startApiServer, useNamespace, waitFor } from './helpers.ts';

const ns = useNamespace('deadline');
const TOKEN = 'hgt_deadline-test-token-0123456789abcdef';
const DEADLINE_SECONDS = 3;
let server: ApiServer;
let launcher: KubeLauncher;
let app: ReturnType<typeof buildApp>;
let route: Route;

beforeAll(async () => {
  const spec = {
    jobTemplate: {
      spec: {
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'main', image: 'busybox' }],
            nodeSelector: { nowhere: 'true' },
          },
        },
      },
    },
  };
  const wf = await kubeConfig()
    .makeApiClient(CustomObjectsApi)
    .createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns.name,
      plural: WORKFLOW.plural,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: WORKFLOW.kind, metadata: { name: 'wf' }, spec },
    });
  route = RouteSchema.parse({
    namespace: ns.name,
    name: 'slack-like',
    uid: 'trigger-uid',
    generation: 1,
    path: `/hooks/${ns.name}/slack-like`,
    suspended: false,
    auth: { tokens: [{ value: TOKEN }] },
    rateLimit: {},
    maxBodyBytes: 1024,
    input: {},
    response: { deadlineSeconds: DEADLINE_SECONDS },
    workflow: { name: 'wf', uid: wf.metadata.uid, spec: WorkflowSpec.parse(spec) },
  });
  server = await startApiServer();
  const kc = new KubeConfig();
  kc.loadFromFile(server.kubeconfigPath);
  launcher = new KubeLauncher(kc, {}, pino({ level: 'silent' }));
  await launcher.start();
  app = buildApp({
    routes: { ready: true, match: (path) => (path === route.path ? route : undefined) },
    launcher,
    registry: new Registry(),
  });
});

afterAll(async () => {
  await app?.close();
  await launcher?.stop();
  await server?.stop();
});

/** A delivery with the sender's own id: its retries are the same delivery, so the same run. */
async function deliver(id: string) {
  const t0 = performance.now();
  const res = await app.inject({
    method: 'POST',
    url: route.path,
    payload: JSON.stringify({ id }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'idempotency-key': id },
  });
  return {
    status: res.statusCode,
    body: res.json() as { run?: string; duplicate?: boolean; error?: { code: string } },
    retryAfter: res.headers['retry-after'],
    ms: performance.now() - t0,
  };
}

const runsOf = async (id: string) => {
  const r = await kubectl(['get', 'jobs', '-n', ns.name, '-o', 'json']);
  const items = JSON.parse(r.stdout).items as {
    metadata: { name: string; annotations: Record<string, string> };
  }[];
  return items
    .filter((j) => j.metadata.annotations['hookgate.io/delivery-id'] === id)
    .map((j) => j.metadata.name);
};
const inputOf = async (run: string) =>
  (await kubectl(['get', 'secret', '-n', ns.name, `${run}-input`, '-o', 'name'])).code === 0;

/** A frozen server's answer: 503 with Retry-After within the deadline, long before the API timeout (10 s). */
function expectDeadlineAnswer(a: Awaited<ReturnType<typeof deliver>>) {
  expect(a.status, JSON.stringify(a.body)).toBe(503);
  expect(a.body.error?.code).toBe('deadline_exceeded');
  expect(Number(a.retryAfter)).toBeGreaterThan(0);
  expect(a.ms).toBeGreaterThanOrEqual(DEADLINE_SECONDS * 1000 - 50);
  expect(a.ms).toBeLessThan(DEADLINE_SECONDS * 1000 + 3000);
}

describe('answers within the deadline while the API server hangs', () => {
  it('503 at the deadline; the retry after the server thaws is the same run (the first create landed)', async () => {
    expect((await deliver('warm')).status).toBe(202);
    process.kill(server.pid, 'SIGSTOP');
    let thawed = false;
    try {
      expectDeadlineAnswer(await deliver('d-thaw'));
      // The sender retries at once, the server still frozen: answered within the deadline too.
      expectDeadlineAnswer(await deliver('d-thaw'));
      process.kill(server.pid, 'SIGCONT');
      thawed = true;
      // The create the frozen server held lands, and its input Secret follows it.
      const [run] = await waitFor(
        async () => {
          const runs = await runsOf('d-thaw');
          return runs.length > 0 && (await inputOf(runs[0]!)) && runs;
        },
        { what: 'the held create landed with its input' },
      );
      const retry = await deliver('d-thaw');
      expect(retry.status).toBe(200);
      expect(retry.body).toMatchObject({ run, duplicate: true });
      expect(await runsOf('d-thaw')).toEqual([run]);
    } finally {
      if (!thawed) process.kill(server.pid, 'SIGCONT');
    }
  });

  it('503 at the deadline; the retry after the server died and came back starts the one run (the create was lost)', async () => {
    process.kill(server.pid, 'SIGSTOP');
    expectDeadlineAnswer(await deliver('d-lost'));
    // Killed while frozen: the create it held is lost. The same address comes back.
    const port = server.port;
    process.kill(server.pid, 'SIGKILL');
    await server.stop();
    server = await startApiServer({ port });
    const retry = await waitFor(
      async () => {
        const a = await deliver('d-lost');
        return a.status !== 503 && a;
      },
      { what: 'a delivery accepted once the API server is back', timeoutMs: 60_000 },
    );
    expect(retry.status, JSON.stringify(retry.body)).toBe(202);
    expect(await runsOf('d-lost')).toEqual([retry.body.run]);
    expect(await inputOf(retry.body.run!)).toBe(true);
  });
});
