import type http from 'node:http';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type Route, RouteSchema } from '../../operator/api/v1alpha1/index.ts';
import { ApiUnavailableError, JobRejectedError, RunActiveError } from '../types.ts';
import { event, type FakeApi, fakeApi, reply, startWatch, status } from './fake-api.test-helper.ts';
import { runName } from './job.ts';
import { finishedAs, KubeLauncher, type LauncherHooks, termination } from './launcher.ts';

const log = pino({ level: 'silent' });

function route(concurrencyPolicy = 'Allow'): Route {
  return RouteSchema.parse({
    namespace: 'ns',
    name: 'hook',
    uid: 't-uid',
    generation: 1,
    path: '/hooks/ns/hook',
    suspended: false,
    auth: {},
    rateLimit: { requests: 1, periodSeconds: 1 },
    maxBodyBytes: 10,
    input: {},
    response: {},
    workflow: {
      name: 'wf',
      uid: 'wf-uid',
      spec: {
        concurrencyPolicy,
        jobTemplate: {
          spec: { futureField: 1, template: { spec: { containers: [{ name: 'c', image: 'i' }] } } },
        },
      },
    },
  });
}

const finished = (job: V1Job, type: 'Complete' | 'Failed'): V1Job => ({
  ...job,
  metadata: { ...job.metadata, resourceVersion: `${Number(job.metadata?.resourceVersion ?? 0) + 1}` },
  status: {
    startTime: '2026-01-01T00:00:00Z' as unknown as Date,
    completionTime: type === 'Complete' ? ('2026-01-01T00:00:07Z' as unknown as Date) : undefined,
    conditions: [{ type, status: 'True', lastTransitionTime: '2026-01-01T00:00:07Z' as unknown as Date }],
  },
});

/** A minimal in-memory API server for Jobs, Secrets and Pods in one namespace. */
class Cluster {
  jobs = new Map<string, V1Job>();
  secrets = new Map<string, { metadata: { ownerReferences: { uid: string }[] } }>();
  pods: V1Pod[] = [];
  watchers = new Set<http.ServerResponse>();
  fail?: { code: number; on: 'jobs' | 'secrets' };
  uid = 0;
  rv = 1;

  handle = (req: { method: string; url: URL; body: string }, res: http.ServerResponse) => {
    const p = req.url.pathname;
    if (this.fail && p.endsWith(`/${this.fail.on}`) && req.method === 'POST') {
      return reply(res, this.fail.code, status(this.fail.code, 'Failure', 'injected'));
    }
    if (p === '/apis/batch/v1/jobs') {
      if (req.url.searchParams.get('watch') === 'true') {
        startWatch(res);
        this.watchers.add(res);
        res.on('close', () => this.watchers.delete(res));
        return;
      }
      return reply(res, 200, {
        kind: 'JobList',
        metadata: { resourceVersion: `${this.rv}` },
        items: [...this.jobs.values()],
      });
    }
    const job = p.match(/^\/apis\/batch\/v1\/namespaces\/ns\/jobs(?:\/([^/]+))?$/);
    if (job && req.method === 'POST') {
      const body = JSON.parse(req.body) as V1Job;
      const name = body.metadata!.name!;
      if (this.jobs.has(name)) return reply(res, 409, status(409, 'AlreadyExists'));
      const created = {
        ...body,
        metadata: { ...body.metadata, uid: `uid-${++this.uid}`, resourceVersion: `${++this.rv}` },
      };
      this.put(created, 'ADDED');
      return reply(res, 201, created);
    }
    if (job?.[1] && req.method === 'GET') {
      const found = this.jobs.get(job[1]);
      return found ? reply(res, 200, found) : reply(res, 404, status(404, 'NotFound'));
    }
    if (job?.[1] && req.method === 'DELETE') {
      const found = this.jobs.get(job[1]);
      if (!found) return reply(res, 404, status(404, 'NotFound'));
      this.jobs.delete(job[1]);
      for (const w of this.watchers) event(w, 'DELETED', found);
      return reply(res, 200, status(200, 'Success'));
    }
    if (p === '/api/v1/namespaces/ns/secrets' && req.method === 'POST') {
      const body = JSON.parse(req.body);
      if (this.secrets.has(body.metadata.name)) return reply(res, 409, status(409, 'AlreadyExists'));
      this.secrets.set(body.metadata.name, body);
      return reply(res, 201, body);
    }
    if (p === '/api/v1/namespaces/ns/pods') {
      return reply(res, 200, { kind: 'PodList', metadata: {}, items: this.pods });
    }
    reply(res, 404, status(404, 'NotFound', `${req.method} ${p}`));
  };

  put(job: V1Job, type = 'MODIFIED') {
    this.jobs.set(job.metadata!.name!, job);
    for (const w of this.watchers) event(w, type, job);
  }
}

describe('KubeLauncher', () => {
  let api: FakeApi | undefined;
  let launcher: KubeLauncher | undefined;
  afterEach(async () => {
    await launcher?.stop();
    await api?.close();
  });

  async function setup(hooks: LauncherHooks = {}) {
    const cluster = new Cluster();
    api = await fakeApi(cluster.handle);
    launcher = new KubeLauncher(api.kc, hooks, log, { requestTimeoutMs: 2000 });
    await launcher.start();
    return cluster;
  }

  it('creates the Job and then its input Secret owned by it; a repeat is a duplicate', async () => {
    const calls: string[] = [];
    const cluster = await setup({
      onJobCreated: (s) => calls.push(`created ${s >= 0}`),
      onRunStarted: (r) => calls.push(`started ${r.name}`),
    });
    const delivery = { route: route(), deliveryId: 'd1', input: { a: 1 } };
    const first = await launcher!.launch(delivery);
    expect(first).toEqual({ run: runName('ns', 'hook', 'd1'), duplicate: false });
    const job = cluster.jobs.get(first.run)!;
    expect(job.spec).toMatchObject({ futureField: 1 }); // sent as built, not through the client's models
    expect(cluster.secrets.get(`${first.run}-input`)?.metadata.ownerReferences[0]?.uid).toBe(
      job.metadata?.uid,
    );

    // The input Secret went missing (an earlier attempt died between the creates): a repeat restores it.
    cluster.secrets.clear();
    expect(await launcher!.launch(delivery)).toEqual({ run: first.run, duplicate: true });
    expect(cluster.secrets.get(`${first.run}-input`)?.metadata.ownerReferences[0]?.uid).toBe(
      job.metadata?.uid,
    );
    expect(calls).toEqual(['created true', 'started hook']);
  });

  it('maps API failures: 5xx and 429 → ApiUnavailableError, 422 → JobRejectedError', async () => {
    const cluster = await setup();
    const delivery = { route: route(), deliveryId: 'd1', input: {} };
    for (const [code, on, error] of [
      [503, 'jobs', ApiUnavailableError],
      [429, 'jobs', ApiUnavailableError],
      [500, 'secrets', ApiUnavailableError],
      [422, 'jobs', JobRejectedError],
    ] as const) {
      cluster.fail = { code, on };
      await expect(launcher!.launch(delivery)).rejects.toBeInstanceOf(error);
    }
  });

  it('answers ApiUnavailableError when the API server is gone', async () => {
    await setup();
    await api!.close();
    await expect(launcher!.launch({ route: route(), deliveryId: 'x', input: {} })).rejects.toBeInstanceOf(
      ApiUnavailableError,
    );
  });

  it('Forbid refuses while another run is active; Replace deletes it', async () => {
    const cluster = await setup();
    const forbid = route('Forbid');
    const first = await launcher!.launch({ route: forbid, deliveryId: 'd1', input: {} });
    // The same delivery again is a duplicate, not a conflict.
    expect(await launcher!.launch({ route: forbid, deliveryId: 'd1', input: {} })).toMatchObject({
      duplicate: true,
    });
    await expect(launcher!.launch({ route: forbid, deliveryId: 'd2', input: {} })).rejects.toEqual(
      new RunActiveError(first.run),
    );

    const second = await launcher!.launch({ route: route('Replace'), deliveryId: 'd3', input: {} });
    expect([...cluster.jobs.keys()]).toEqual([second.run]);
  });

  it('Forbid sees a run started a moment ago by a concurrent launch', async () => {
    await setup();
    const results = await Promise.allSettled(
      ['a', 'b', 'c'].map((d) => launcher!.launch({ route: route('Forbid'), deliveryId: d, input: {} })),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
  });

  it('wait resolves when the Job finishes, with the pod termination; reports each finish once', async () => {
    const finishes: string[] = [];
    const cluster = await setup({
      onRunFinished: (r, result, s) => finishes.push(`${r.name} ${result} ${s}`),
    });
    const { run } = await launcher!.launch({ route: route(), deliveryId: 'd1', input: {} });
    const waiting = launcher!.wait(route(), run, 5000);
    cluster.pods = [
      {
        metadata: { name: `${run}-old`, creationTimestamp: '2026-01-01T00:00:00Z' as unknown as Date },
        status: {
          containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 1, message: 'old' } } } as never],
        },
      },
      {
        metadata: { name: `${run}-new`, creationTimestamp: '2026-01-01T00:00:05Z' as unknown as Date },
        status: {
          containerStatuses: [
            { name: 'c', state: { terminated: { exitCode: 3, message: 'boom' } } } as never,
          ],
        },
      },
    ];
    const done = finished(cluster.jobs.get(run)!, 'Failed');
    cluster.put(done);
    cluster.put({ ...done, metadata: { ...done.metadata, resourceVersion: '99' } });
    expect(await waiting).toEqual({ run, result: 'Failed', exitCode: 3, message: 'boom' });
    expect(finishes).toEqual(['hook Failed 7']);
    expect((await launcher!.wait(route(), run, 10))?.result).toBe('Failed');
  });

  it('wait gives undefined at the timeout', async () => {
    await setup();
    const { run } = await launcher!.launch({ route: route(), deliveryId: 'd1', input: {} });
    expect(await launcher!.wait(route(), run, 50)).toBeUndefined();
  });
});

describe('finishedAs and termination', () => {
  it('reads only terminal conditions', () => {
    const job = (type: string, s = 'True'): V1Job => ({ status: { conditions: [{ type, status: s }] } });
    expect(finishedAs(job('Complete'))).toBe('Succeeded');
    expect(finishedAs(job('Failed'))).toBe('Failed');
    expect(finishedAs(job('Failed', 'False'))).toBeUndefined();
    expect(finishedAs(job('SuccessCriteriaMet'))).toBeUndefined();
    expect(finishedAs({})).toBeUndefined();
  });

  it('prefers a failing container and leaves out an empty message', () => {
    const pod = (...states: [number, string?][]): V1Pod => ({
      status: {
        containerStatuses: states.map(([exitCode, message], i) => ({
          name: `c${i}`,
          state: { terminated: { exitCode, message } },
        })) as never,
      },
    });
    expect(termination([pod([0, 'ok'], [2, 'bad'])])).toEqual({ exitCode: 2, message: 'bad' });
    expect(termination([pod([0])])).toEqual({ exitCode: 0 });
    expect(termination([])).toEqual({});
  });
});
