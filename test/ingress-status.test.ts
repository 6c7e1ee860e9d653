// What the ingress writes about a trigger, against a real API server as the ingress ServiceAccount
// with the chart's RBAC: status.lastTriggeredTime and status.rejections (the StatusWriter, batched,
// merged across replicas), and Warning Events for configuration-caused rejections at a bounded rate.
import { randomBytes } from 'node:crypto';
import {
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, type Route, VERSION, WEBHOOK_TRIGGER } from '../api/v1alpha1/index.ts';
import { testRoute } from '../ingress/http/fakes.test-helper.ts';
import { RejectionReporter } from '../ingress/rejections.ts';
import { FIELD_MANAGER, StatusWriter } from '../ingress/status-writer.ts';
import { eventRecorder } from '../lib/events.ts';
import { KubeClient } from '../lib/kube.ts';
import { installChartRbac } from './harness/index.ts';
import {
  clusterInfo,
  kubeConfig,
  kubeConfigVia,
  kubectl,
  startApiServer,
  useNamespace,
  waitFor,
} from './helpers.ts';

const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const app = useNamespace('status');
const system = `hookgate-system-status-${randomBytes(3).toString('hex')}`;
let rbac: Awaited<ReturnType<typeof installChartRbac>>;
let asIngress: KubeConfig;

beforeAll(async () => {
  rbac = await installChartRbac(clusterInfo(), system);
  asIngress = new KubeConfig();
  asIngress.loadFromFile(rbac.ingress);
});
afterAll(async () => {
  await rbac?.uninstall();
  await kubectl(['delete', 'namespace', system, '--wait=false', '--ignore-not-found']);
});

const custom = () => kubeConfig().makeApiClient(CustomObjectsApi);
const triggers = () => ({
  group: GROUP,
  version: VERSION,
  namespace: app.name,
  plural: WEBHOOK_TRIGGER.plural,
});
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function trigger(name: string) {
  return custom().createNamespacedCustomObject({
    ...triggers(),
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: WEBHOOK_TRIGGER.kind,
      metadata: { name },
      spec: { workflowRef: { name: 'wf' }, auth: { bearer: {} } },
    },
  });
}
const read = (name: string) => custom().getNamespacedCustomObject({ ...triggers(), name });
const lastTriggered = async (name: string) => (await read(name)).status?.lastTriggeredTime;

function route(name: string, uid = `${name}-uid`, extra: Partial<Route> = {}): Route {
  return testRoute({
    namespace: app.name,
    name,
    uid,
    auth: { tokens: [{ value: 'hgt_test' }] },
    rateLimit: {},
    maxBodyBytes: 1024,
    workflow: {
      name: 'wf',
      uid: 'wf-uid',
      spec: { jobTemplate: { spec: { template: { spec: { containers: [] } } } } },
    },
    ...extra,
  });
}

const asIngressVia = (server: { kubeconfigPath: string }) => kubeConfigVia(rbac.ingress, server);

describe('lastTriggeredTime', () => {
  it('is written on the status subresource as hookgate-ingress, never creating a trigger', async () => {
    await trigger('used');
    const now = new Date('2026-05-01T12:00:00.500Z');
    const writer = new StatusWriter(asIngress, log, { now: () => now });
    writer.recordUse(route('used'));
    writer.recordUse(route('deleted-meanwhile'));
    await writer.stop();

    const written = await read('used');
    expect(written.status?.lastTriggeredTime).toBe('2026-05-01T12:00:00Z');
    expect(written.spec.workflowRef).toEqual({ name: 'wf' });
    const managers = (written.metadata.managedFields ?? []) as { manager: string; subresource?: string }[];
    expect(managers).toContainEqual(
      expect.objectContaining({ manager: FIELD_MANAGER, subresource: 'status' }),
    );
    await expect(read('deleted-meanwhile')).rejects.toMatchObject({ code: 404 });
  });

  it('is written once per used trigger per flush, the latest use, and not for triggers not used since', async () => {
    await trigger('once-a');
    await trigger('once-b');
    const { metadata } = await custom().listNamespacedCustomObject(triggers());
    const writes: string[] = [];
    const watch = await new Watch(kubeConfig()).watch(
      `/apis/${GROUP}/${VERSION}/namespaces/${app.name}/${WEBHOOK_TRIGGER.plural}`,
      { resourceVersion: metadata.resourceVersion },
      (type, obj) => {
        if (type === 'MODIFIED' && obj.metadata.name.startsWith('once-'))
          writes.push(`${obj.metadata.name} ${obj.status?.lastTriggeredTime}`);
      },
      () => {},
    );
    try {
      let now = new Date('2026-05-02T10:00:00.123Z');
      const writer = new StatusWriter(asIngress, log, { now: () => now });
      writer.recordUse(route('once-a'));
      writer.recordUse(route('once-b'));
      now = new Date('2026-05-02T10:00:05Z');
      writer.recordUse(route('once-a'));
      await writer.flush();

      // Someone else's value, which a needless write would overwrite. Its event also comes after
      // every write of the flush.
      const other = '2000-01-01T00:00:00Z';
      await custom().patchNamespacedCustomObjectStatus(
        { ...triggers(), name: 'once-a', body: { status: { lastTriggeredTime: other } } },
        mergePatch,
      );
      await waitFor(() => writes.includes(`once-a ${other}`), { what: 'the watch to catch up' });
      expect(writes.sort()).toEqual([
        `once-a ${other}`,
        'once-a 2026-05-02T10:00:05Z',
        'once-b 2026-05-02T10:00:00Z',
      ]);

      await writer.flush();
      expect(await lastTriggered('once-a')).toBe(other);
    } finally {
      watch.abort();
    }
  });

  it('is written again at the next flush when a write failed', async () => {
    await trigger('retried');
    let server = await startApiServer();
    let up = true;
    try {
      const writer = new StatusWriter(asIngressVia(server), log, {
        now: () => new Date('2026-05-03T08:00:00Z'),
      });
      await server.stop();
      up = false;
      writer.recordUse(route('retried'));
      writer.recordRejection(route('retried'), 'unauthorized', 401, 'invalid_token');
      await writer.flush();
      expect(await lastTriggered('retried')).toBeUndefined();

      // Back at the same address, as after a restart of the API server.
      server = await startApiServer({ port: server.port });
      up = true;
      await writer.flush();
      const status = (await read('retried')).status;
      expect(status?.lastTriggeredTime).toBe('2026-05-03T08:00:00Z');
      expect(status?.rejections?.unauthorized).toMatchObject({ count: 1, reason: 'invalid_token' });
    } finally {
      if (up) await server.stop();
    }
  });

  it('is dropped for a trigger that is gone', async () => {
    const writer = new StatusWriter(asIngress, log);
    writer.recordUse(route('gone'));
    await writer.flush();
    // Were the failed write kept, the next flush would land on a trigger of the same name.
    await trigger('gone');
    await writer.flush();
    expect(await lastTriggered('gone')).toBeUndefined();
  });
});

describe('status.rejections', () => {
  it('shows the latest refusal per outcome (time, count, status, reason), written at most once per interval', async () => {
    await trigger('refused');
    let now = new Date('2026-06-01T09:00:00Z');
    const writer = new StatusWriter(asIngress, log, { now: () => now, rejectionIntervalMs: 60_000 });
    const r = route('refused');
    writer.recordRejection(r, 'unauthorized', 401, 'invalid_signature');
    writer.recordRejection(r, 'unauthorized', 401, 'timestamp_out_of_tolerance');
    writer.recordRejection(r, 'payload_too_large', 413);
    await writer.flush();
    // The 413 is written once and stays as it was.
    const tooLarge = { lastTime: '2026-06-01T09:00:00Z', count: 1, statusCode: 413 };
    const unauthorized = (lastTime: string, count: number, reason: string) => ({
      lastTime,
      count,
      statusCode: 401,
      reason,
    });
    expect((await read('refused')).status?.rejections).toEqual({
      unauthorized: unauthorized('2026-06-01T09:00:00Z', 2, 'timestamp_out_of_tolerance'),
      payload_too_large: tooLarge,
    });

    // Within the interval: counted, not written, even with a use to write.
    now = new Date('2026-06-01T09:00:30Z');
    writer.recordRejection(r, 'unauthorized', 401, 'invalid_signature');
    writer.recordUse(r);
    await writer.flush();
    const mid = (await read('refused')).status;
    expect(mid?.lastTriggeredTime).toBe('2026-06-01T09:00:30Z');
    expect(mid?.rejections?.unauthorized?.lastTime).toBe('2026-06-01T09:00:00Z');

    now = new Date('2026-06-01T09:01:01Z');
    await writer.flush();
    expect((await read('refused')).status?.rejections).toEqual({
      unauthorized: unauthorized('2026-06-01T09:00:30Z', 1, 'invalid_signature'),
      payload_too_large: tooLarge,
    });
  });

  it('keeps what another replica wrote: each writes only its own news', async () => {
    await trigger('two-replicas');
    const at = (t: string) => () => new Date(t);
    const a = new StatusWriter(asIngress, log, { now: at('2026-06-02T10:00:00Z') });
    const b = new StatusWriter(asIngress, log, { now: at('2026-06-02T10:00:05Z') });
    a.recordRejection(route('two-replicas'), 'rate_limited', 429);
    await a.flush();
    b.recordRejection(route('two-replicas'), 'invalid_input', 422);
    b.recordUse(route('two-replicas'));
    await b.flush();
    a.recordUse(route('two-replicas'));
    await a.flush();
    const status = (await read('two-replicas')).status;
    expect(Object.keys(status?.rejections ?? {}).sort()).toEqual(['invalid_input', 'rate_limited']);
    expect(status?.lastTriggeredTime).toBe('2026-06-02T10:00:00Z');
  });

  it('writes at most maxRejectionWrites triggers a flush for rejections alone; the rest wait', async () => {
    await Promise.all(['many-0', 'many-1', 'many-2'].map(trigger));
    const writer = new StatusWriter(asIngress, log, { maxRejectionWrites: 2 });
    for (const n of ['many-0', 'many-1', 'many-2'])
      writer.recordRejection(route(n), 'unauthorized', 401, 'missing_token');
    await writer.flush();
    const written = async () =>
      (await Promise.all(['many-0', 'many-1', 'many-2'].map(read))).filter((t) => t.status?.rejections)
        .length;
    expect(await written()).toBe(2);
    await writer.flush();
    expect(await written()).toBe(3);
  });
});

describe('Warning Events', () => {
  const eventsOf = async (name: string) =>
    (
      await kubeConfig()
        .makeApiClient(EventsV1Api)
        .listNamespacedEvent({ namespace: app.name, fieldSelector: `regarding.name=${name}` })
    ).items;

  it('announce a configuration-caused rejection at once, then at most once per interval, never a bad signature', async () => {
    const created = (await trigger('unrunnable')) as { metadata: { uid: string } };
    let now = 1_000_000;
    const writer = new StatusWriter(asIngress, log);
    const reporter = new RejectionReporter(
      writer,
      eventRecorder(new KubeClient(asIngress), log, FIELD_MANAGER),
      {
        now: () => now,
        eventIntervalMs: 600_000,
      },
    );
    const r = route('unrunnable', created.metadata.uid, {
      unavailable: { reason: 'WorkflowNotFound', message: 'the workflow "wf" does not exist' },
    });
    reporter.record(r, 'trigger_unavailable', 503, 'WorkflowNotFound');
    reporter.record(r, 'unauthorized', 401, 'invalid_token');
    now += 60_000;
    reporter.record(r, 'trigger_unavailable', 503, 'WorkflowNotFound');
    reporter.record(r, 'trigger_unavailable', 503, 'WorkflowNotFound');
    now += 600_000;
    reporter.record(r, 'trigger_unavailable', 503, 'WorkflowNotFound');

    const events = await waitFor(
      async () => {
        const e = await eventsOf('unrunnable');
        return e.length >= 2 && e;
      },
      { what: 'two Events' },
    );
    await new Promise((done) => setTimeout(done, 500));
    expect(await eventsOf('unrunnable')).toHaveLength(2);
    const notes = events.map((e) => e.note).sort();
    expect(notes).toEqual([
      'A delivery was answered 503 trigger_unavailable: the workflow "wf" does not exist (and 2 more since the last Event).',
      'A delivery was answered 503 trigger_unavailable: the workflow "wf" does not exist.',
    ]);
    for (const e of events) {
      expect(e).toMatchObject({
        type: 'Warning',
        reason: 'TriggerUnavailable',
        reportingController: FIELD_MANAGER,
        regarding: { kind: 'WebhookTrigger', name: 'unrunnable', uid: created.metadata.uid },
      });
    }
    // Every rejection is in the status, the bad token too.
    await writer.stop();
    expect(Object.keys((await read('unrunnable')).status?.rejections ?? {}).sort()).toEqual([
      'trigger_unavailable',
      'unauthorized',
    ]);
  });
});
