// "Why didn't it run", end to end: operator and ingress as the chart runs them; refused deliveries
// show in the trigger's status.rejections within a flush, and a configuration-caused one as a
// Warning Event from the ingress, under the chart's RBAC; nothing the sender sent appears in either.
import { EventsV1Api } from '@kubernetes/client-node';
import { expect, it } from 'vitest';
import { kubeConfig, useHookgate, useNamespace, waitFor } from './helpers.ts';
import { applyObjects, readTrigger, triggerObject } from './objects.test-helper.ts';

const app = useNamespace('rejections');
const running = useHookgate('rej');

const read = (name: string) => readTrigger(app.name, name);

const post = (name: string, headers: Record<string, string> = {}) =>
  fetch(`${running.hg.url}/hooks/${app.name}/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{"secret":"must-not-appear"}',
  });

it('records a refused delivery in status.rejections, and a configuration problem as a Warning Event', async () => {
  // No such Workflow: the trigger is served as unavailable until it exists.
  await applyObjects(app.name, [triggerObject('orphan', 'missing')]);
  await waitFor(async () => (await post('orphan')).status === 503, { what: 'the unavailable route' });
  const started = Date.now();
  const rejections = await waitFor(
    async () => (await read('orphan')).status?.rejections?.trigger_unavailable,
    {
      what: 'status.rejections',
      timeoutMs: 30_000,
    },
  );
  expect(rejections).toMatchObject({ statusCode: 503, reason: 'WorkflowNotFound' });
  expect(rejections.count).toBeGreaterThanOrEqual(1);
  expect(Date.now() - started).toBeLessThan(25_000);

  const events = await waitFor(
    async () => {
      const list = await kubeConfig()
        .makeApiClient(EventsV1Api)
        .listNamespacedEvent({ namespace: app.name, fieldSelector: 'regarding.name=orphan' });
      return list.items.filter((e) => e.reportingController === 'hookgate-ingress').length > 0 && list.items;
    },
    { what: "the ingress's Warning Event" },
  );
  const event = events.find((e) => e.reportingController === 'hookgate-ingress')!;
  expect(event).toMatchObject({
    type: 'Warning',
    reason: 'TriggerUnavailable',
    regarding: { kind: 'WebhookTrigger' },
  });
  expect(event.note).toContain('answered 503 trigger_unavailable');
  const text = JSON.stringify({ status: (await read('orphan')).status, events });
  expect(text).not.toContain('must-not-appear');
});
