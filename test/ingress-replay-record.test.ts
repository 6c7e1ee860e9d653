// The replay record through the real operator, ingress and Job machinery (issue 20, item 8): a
// Workflow's ttlSecondsAfterFinished does not delete a run before its replay window ends, a
// future-dated timestamp is recorded for as long as it verifies, and the unsigned query string
// reaches no run unless the trigger opts in.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { Annotations } from '../api/v1alpha1/index.ts';
import { sign } from '../ingress/verify/index.ts';
import { kubectl, useHookgate, useNamespace, waitFor } from './helpers.ts';
import { applyObjects, credential, triggerObject, workflowObject } from './objects.test-helper.ts';

const app = useNamespace('replay-record');
const running = useHookgate('record');

const workflow = (name: string, ttlSecondsAfterFinished: number) =>
  workflowObject(name, { jobSpec: { ttlSecondsAfterFinished } });
const trigger = (name: string, signature: Record<string, unknown>) =>
  triggerObject(name, name, { spec: { auth: { signature } } });

beforeAll(async () => {
  await applyObjects(app.name, [
    workflow('ttl-zero', 0),
    trigger('ttl-zero', { scheme: 'github', replayWindowSeconds: 120 }),
    workflow('ahead', 3600),
    trigger('ahead', { scheme: 'timestamped', toleranceSeconds: 60 }),
  ]);
});

const signingSecret = (name: string) => credential(app.name, name, 'signingSecret');

interface Job {
  metadata: { name: string; annotations: Record<string, string> };
  spec: { ttlSecondsAfterFinished?: number };
  status?: { conditions?: { type: string; status: string }[] };
}
const getJob = async (name: string): Promise<Job | undefined> => {
  const r = await kubectl(['get', 'job', '-n', app.name, name, '-o', 'json', '--ignore-not-found']);
  return r.stdout.trim() ? (JSON.parse(r.stdout) as Job) : undefined;
};

/** POSTs until the route is served (the operator publishes it moments after Ready). */
const deliver = (url: string, body: string, headers: Record<string, string>) =>
  waitFor(
    async () => {
      const res = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...headers },
      });
      return (
        res.status !== 404 && { status: res.status, body: (await res.json()) as Record<string, unknown> }
      );
    },
    { what: `a route for ${url}` },
  );

describe('the replay record', () => {
  it("outlives the Workflow's ttlSecondsAfterFinished: 0, so a replay after the run finished is a duplicate", async () => {
    const url = `${running.hg.url}/hooks/${app.name}/ttl-zero`;
    const secret = await signingSecret('ttl-zero');
    const body = JSON.stringify({ ref: 'refs/heads/main', after: randomUUID() });
    const headers = sign({ scheme: 'github', secrets: [] }, secret, Buffer.from(body), Date.now(), 'd-1');
    const first = await deliver(`${url}?x=1`, body, headers);
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    const run = String(first.body.run);
    const finished = await waitFor(
      async () => {
        const j = await getJob(run);
        if (!j) return 'deleted';
        return j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') && j;
      },
      { what: `${run} Complete` },
    );
    if (finished === 'deleted') expect.fail('the TTL controller deleted the run that records the delivery');
    expect(finished.spec.ttlSecondsAfterFinished).toBe(120);
    // A TTL of 0 has the TTL controller delete a finished Job within a moment; give it that moment.
    await sleep(5_000);
    expect(await getJob(run), 'the Job that records the delivery').toBeDefined();
    // The replay, with another (unsigned) query string and delivery id: the same run.
    const replay = await deliver(
      `${url}?x=2`,
      body,
      sign({ scheme: 'github', secrets: [] }, secret, Buffer.from(body), Date.now(), 'd-2'),
    );
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ run, duplicate: true });
    // Without `input.query` the unsigned query string reached no run.
    const input = await kubectl([
      'get',
      'secret',
      '-n',
      app.name,
      `${run}-input`,
      '-o',
      'jsonpath={.data.input\\.json}',
    ]);
    expect(JSON.parse(Buffer.from(input.stdout, 'base64').toString('utf8'))).toEqual(JSON.parse(body));
  });

  it('covers a timestamp signed a tolerance ahead until that timestamp is out of tolerance', async () => {
    const url = `${running.hg.url}/hooks/${app.name}/ahead`;
    const secret = await signingSecret('ahead');
    const body = JSON.stringify({ event: randomUUID() });
    const ahead = Date.now() + 55_000;
    const signature = { scheme: 'timestamped' as const, toleranceSeconds: 60, secrets: [] };
    const answer = await deliver(url, body, sign(signature, secret, Buffer.from(body), ahead));
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    const job = await waitFor(() => getJob(String(answer.body.run)), { what: 'the run' });
    // A replay of it verifies until `ahead` + 60 s: the record must last at least that long.
    const until = Date.parse(job.metadata.annotations[Annotations.replayUntil]!);
    expect(until).toBeGreaterThanOrEqual(ahead + 60_000 - 1_000);
  });
});
