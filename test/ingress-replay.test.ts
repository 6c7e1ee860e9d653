// Replays through the real operator and ingress: a captured GitHub delivery sent again with a new
// X-GitHub-Delivery is the same run, and that run's Job carries the replay window the trigger asks
// for (kept past history limits until then).
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { Annotations } from '../api/v1alpha1/index.ts';
import { sign } from '../ingress/verify/index.ts';
import { kubectl, waitFor } from './helpers.ts';
import { triggerObject, useServedTenant, workflowObject } from './objects.test-helper.ts';

const app = useServedTenant('replay');

beforeAll(async () => {
  await app.apply(
    workflowObject('build'),
    triggerObject('push', 'build', {
      spec: { auth: { signature: { scheme: 'github', replayWindowSeconds: 7200 } } },
    }),
  );
});

const jobs = async () =>
  JSON.parse((await kubectl(['get', 'jobs', '-n', app.name, '-o', 'json'])).stdout).items as {
    metadata: { name: string; annotations: Record<string, string> };
  }[];

describe('replays through the real ingress', () => {
  it('a GitHub delivery replayed with a new X-GitHub-Delivery is the same run, kept for the replay window', async () => {
    const url = app.url('push');
    const secret = await app.credential('push', 'signingSecret');
    const body = JSON.stringify({ ref: 'refs/heads/main', after: randomUUID() });
    const send = (id: string) =>
      fetch(url, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          ...sign({ scheme: 'github', secrets: [] }, secret, Buffer.from(body), Date.now(), id),
        },
      });
    // Served: neither unknown yet (404) nor waiting for its Workflow to turn Ready (503
    // trigger_unavailable, what a trigger reconciled before its new Workflow answers).
    const first = await waitFor(
      async () => {
        const res = await send('delivery-1');
        const waiting = res.status === 503 && (await res.clone().text()).includes('trigger_unavailable');
        return res.status !== 404 && !waiting && res;
      },
      { what: 'the route served' },
    );
    const started = Date.now();
    expect(first.status, await first.clone().text()).toBe(202);
    const run = ((await first.json()) as { run: string }).run;
    for (const id of ['delivery-1', 'delivery-2', randomUUID()]) {
      const again = await send(id);
      expect(again.status).toBe(200);
      expect(await again.json()).toMatchObject({ run, duplicate: true });
    }
    const all = await jobs();
    expect(all.map((j) => j.metadata.name)).toEqual([run]);
    const annotations = all[0]!.metadata.annotations;
    expect(annotations[Annotations.deliveryId]).toBe('delivery-1');
    const until = Date.parse(annotations[Annotations.replayUntil]!);
    expect(Math.abs(until - (started + 7_200_000))).toBeLessThan(60_000);
  });
});
