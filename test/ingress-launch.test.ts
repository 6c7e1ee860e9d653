// The ingress's KubeLauncher against a real API server, running as a ServiceAccount with exactly the
// ingress RBAC of docs/design.md: launching Jobs and waiting for them. The route Secret store is in
// test/ingress-routes-store.test.ts, the status writer in test/ingress-status.test.ts.
import { BatchV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeLauncher } from '../ingress/run/launcher.ts';
import { ApiUnavailableError, type Delivery, JobRejectedError, RunActiveError } from '../ingress/types.ts';
import { isNotFound } from '../lib/kube.ts';
import { Env, finishedAs, INPUT_KEY, runName, termination } from '../lib/run.ts';
import { kubectl, startApiServer, waitFor } from './helpers.ts';
import {
  admin,
  app,
  asIngress,
  asIngressVia,
  jobsOf,
  launcher,
  log,
  mergePatch,
  route,
  useIngressLaunch,
  withLauncher,
  workflows,
} from './ingress-launch.test-helper.ts';

useIngressLaunch();

describe('KubeLauncher', () => {
  it('creates exactly one Job and its input Secret, labelled, owned, with env and mount', async () => {
    const input = { ref: 'refs/heads/main', _query: { dry: 'true' }, _headers: { 'x-github-event': 'push' } };
    const result = await launcher.launch({ route: route('allow', 'first'), deliveryId: 'delivery-1', input });
    expect(result).toEqual({ run: runName(app.name, 'first', 'delivery-1'), duplicate: false });

    const jobs = await jobsOf('first');
    expect(jobs.map((j) => j.metadata?.name)).toEqual([result.run]);
    const job = jobs[0]!;
    expect(job.metadata?.labels).toMatchObject({
      team: 'a',
      'app.kubernetes.io/managed-by': 'hookgate',
      'hookgate.io/workflow': 'allow',
      'hookgate.io/trigger': 'first',
    });
    expect(job.metadata?.annotations?.['hookgate.io/delivery-id']).toBe('delivery-1');
    expect(job.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'Workflow',
        name: 'allow',
        uid: workflows.get('allow')!.uid,
        controller: true,
      }),
    ]);
    const container = job.spec!.template.spec!.containers[0]!;
    expect(container.volumeMounts).toContainEqual(
      expect.objectContaining({ mountPath: '/var/run/hookgate', readOnly: true }),
    );
    expect(Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]))).toMatchObject({
      [Env.run]: result.run,
      [Env.trigger]: 'first',
      [Env.workflow]: 'allow',
      [Env.deliveryId]: 'delivery-1',
      [Env.inputFile]: '/var/run/hookgate/input.json',
    });

    const secret = await admin
      .makeApiClient(CoreV1Api)
      .readNamespacedSecret({ namespace: app.name, name: `${result.run}-input` });
    expect(JSON.parse(Buffer.from(secret.data![INPUT_KEY]!, 'base64').toString())).toEqual(input);
    expect(secret.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Job', name: result.run, uid: job.metadata?.uid, controller: true }),
    ]);
  });

  it('launches the same delivery once: the second is a duplicate with the same run', async () => {
    const delivery: Delivery = { route: route('allow', 'twice'), deliveryId: 'same', input: { n: 1 } };
    const first = await launcher.launch(delivery);
    const second = await launcher.launch(delivery);
    expect(second).toEqual({ run: first.run, duplicate: true });
    expect(await jobsOf('twice')).toHaveLength(1);
  });

  it('turns 50 concurrent copies of one delivery into one Job', async () => {
    const delivery: Delivery = { route: route('allow', 'burst'), deliveryId: 'burst-1', input: {} };
    const results = await Promise.all(Array.from({ length: 50 }, () => launcher.launch(delivery)));
    expect(new Set(results.map((r) => r.run)).size).toBe(1);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(results.filter((r) => r.duplicate)).toHaveLength(49);
    expect(await jobsOf('burst')).toHaveLength(1);
  });

  it('Forbid refuses a second run while one is active; the same delivery again is a duplicate', async () => {
    const r = route('forbid');
    const first = await launcher.launch({ route: r, deliveryId: 'f1', input: {} });
    expect(await launcher.launch({ route: r, deliveryId: 'f1', input: {} })).toEqual({
      run: first.run,
      duplicate: true,
    });
    await expect(launcher.launch({ route: r, deliveryId: 'f2', input: {} })).rejects.toEqual(
      new RunActiveError(first.run),
    );
    // Another replica learns of the run through its informer.
    const replica = new KubeLauncher(asIngress, {}, log);
    try {
      await replica.start();
      await expect(replica.launch({ route: r, deliveryId: 'f3', input: {} })).rejects.toBeInstanceOf(
        RunActiveError,
      );
    } finally {
      await replica.stop();
    }
    expect((await jobsOf(r.name)).map((j) => j.metadata?.name)).toEqual([first.run]);
  });

  it('Forbid sees a run started a moment ago by a concurrent launch', async () => {
    const r = route('forbid-race');
    const results = await Promise.allSettled(
      ['a', 'b', 'c'].map((d) => launcher.launch({ route: r, deliveryId: d, input: {} })),
    );
    const started = results.flatMap((x) => (x.status === 'fulfilled' ? [x.value.run] : []));
    expect(started).toHaveLength(1);
    const refused = results.flatMap((x) => (x.status === 'rejected' ? [x.reason] : []));
    expect(refused).toEqual([new RunActiveError(started[0]!), new RunActiveError(started[0]!)]);
    expect((await jobsOf(r.name)).map((j) => j.metadata?.name)).toEqual(started);
  });

  it('Replace deletes the active run and starts the new one', async () => {
    const r = route('replace');
    const first = await launcher.launch({ route: r, deliveryId: 'r1', input: {} });
    const second = await launcher.launch({ route: r, deliveryId: 'r2', input: {} });
    expect(second.duplicate).toBe(false);
    await waitFor(
      async () => {
        const names = (await jobsOf(r.name))
          .filter((j) => !j.metadata?.deletionTimestamp)
          .map((j) => j.metadata?.name);
        return names.length === 1 && names[0] === second.run;
      },
      { what: `${first.run} to be replaced by ${second.run}` },
    );
  });

  /** What the operator does for a finished run: its pods' termination, published on the Job. */
  async function publishResult(run: string) {
    const batch = admin.makeApiClient(BatchV1Api);
    await waitFor(async () => finishedAs(await batch.readNamespacedJob({ namespace: app.name, name: run })), {
      what: `${run} finished`,
    });
    const pods = await admin
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace: app.name, labelSelector: `batch.kubernetes.io/job-name=${run}` });
    const r = await kubectl([
      'annotate',
      'job',
      '-n',
      app.name,
      run,
      `hookgate.io/result=${JSON.stringify(termination(pods.items))}`,
    ]);
    expect(r.code, r.stderr).toBe(0);
  }

  it('wait returns Succeeded with the exit code the operator publishes on the Job', async () => {
    const r = route('allow', 'waits');
    const { run } = await launcher.launch({ route: r, deliveryId: 'w1', input: {} });
    const answer = launcher.wait(r, run, 60_000);
    await publishResult(run);
    expect(await answer).toEqual({ run, result: 'Succeeded', exitCode: 0 });
  });

  it('wait returns Failed with the exit code and termination message of a failed run', async () => {
    const r = route('fail');
    const { run } = await launcher.launch({ route: r, deliveryId: 'x1', input: {} });
    const answer = launcher.wait(r, run, 60_000);
    await publishResult(run);
    expect(await answer).toEqual({ run, result: 'Failed', exitCode: 3, message: 'disk full' });
  });

  it('without a published result, wait answers with the result alone by its deadline', async () => {
    const r = route('allow', 'unpublished');
    const { run } = await launcher.launch({ route: r, deliveryId: 'u1', input: {} });
    expect(await launcher.wait(r, run, 4_000)).toEqual({ run, result: 'Succeeded' });
  });

  it('restores a missing input Secret when the delivery repeats; reports the new run to the hooks once', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const calls: string[] = [];
    await withLauncher(
      {
        onJobCreated: (s) => calls.push(`created ${s >= 0}`),
        onRunStarted: (r) => calls.push(`started ${r.name}`),
      },
      async (l) => {
        const delivery: Delivery = { route: route('stuck', 'restore'), deliveryId: 'lost', input: { n: 1 } };
        const { run } = await l.launch(delivery);
        const name = `${run}-input`;
        // As if an earlier attempt had died between creating the Job and its input Secret.
        const lost = await core.readNamespacedSecret({ namespace: app.name, name });
        await core.deleteNamespacedSecret({ namespace: app.name, name });

        expect(await l.launch(delivery)).toEqual({ run, duplicate: true });
        const restored = await core.readNamespacedSecret({ namespace: app.name, name });
        expect(restored.metadata?.uid).not.toBe(lost.metadata?.uid);
        expect(JSON.parse(Buffer.from(restored.data![INPUT_KEY]!, 'base64').toString())).toEqual({ n: 1 });
        const [job] = await jobsOf('restore');
        expect(restored.metadata?.ownerReferences).toEqual([
          expect.objectContaining({ kind: 'Job', name: run, uid: job?.metadata?.uid }),
        ]);
      },
    );
    expect(calls).toEqual(['created true', 'started restore']);
  });

  it('answers JobRejectedError when the API server rejects the Job, and creates nothing', async () => {
    const r = route('rejected');
    const err = await launcher.launch({ route: r, deliveryId: 'j1', input: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobRejectedError);
    expect((err as Error).message).toMatch(/^HTTP 422: .*restartPolicy/);
    expect(await jobsOf(r.name)).toEqual([]);
    await expect(
      admin
        .makeApiClient(CoreV1Api)
        .readNamespacedSecret({ namespace: app.name, name: `${runName(app.name, r.name, 'j1')}-input` }),
    ).rejects.toMatchObject({ code: 404 });
  });

  it('reports each run it started finishing once, also when waited on', async () => {
    const finishes: string[] = [];
    const seconds: number[] = [];
    await withLauncher(
      {
        onRunFinished: (r, result, s) => {
          finishes.push(`${r.name} ${result}`);
          seconds.push(s);
        },
      },
      async (l) => {
        const failing = route('fail', 'reported');
        const { run } = await l.launch({ route: failing, deliveryId: 'r1', input: {} });
        const outcomes = await Promise.all([l.wait(failing, run, 60_000), l.wait(failing, run, 60_000)]);
        expect(outcomes.map((o) => o?.result)).toEqual(['Failed', 'Failed']);
        // Finished, it answers from the cache at once.
        expect((await l.wait(failing, run, 1))?.result).toBe('Failed');

        // A later change of the finished Job is no second finish. The watch delivers in order, so
        // once a run launched after the change has finished, the change has been seen.
        await admin
          .makeApiClient(BatchV1Api)
          .patchNamespacedJob(
            { namespace: app.name, name: run, body: { metadata: { annotations: { touched: 'true' } } } },
            mergePatch,
          );
        const later = route('allow', 'reported-later');
        const next = await l.launch({ route: later, deliveryId: 'r2', input: {} });
        expect((await l.wait(later, next.run, 60_000))?.result).toBe('Succeeded');

        const [job] = await jobsOf('reported');
        const failed = job?.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
        expect(seconds[0]).toBe(
          (new Date(failed!.lastTransitionTime!).getTime() - new Date(job!.status!.startTime!).getTime()) /
            1000,
        );
      },
    );
    expect(finishes).toEqual(['reported Failed', 'reported-later Succeeded']);
  });

  it('wait gives undefined at its timeout', async () => {
    const r = route('stuck');
    const { run } = await launcher.launch({ route: r, deliveryId: 's1', input: {} });
    expect(await launcher.wait(r, run, 500)).toBeUndefined();
  });

  it('answers a repeat of a run that has run from its Job cache, without calling the API server', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const r = route('allow', 'cached');
    const delivery: Delivery = { route: r, deliveryId: 'c1', input: {} };
    const { run } = await launcher.launch(delivery);
    expect((await launcher.wait(r, run, 60_000))?.result).toBe('Succeeded');
    // Gone by hand: a create path would restore it; an answer from the cache leaves it gone.
    await core.deleteNamespacedSecret({ namespace: app.name, name: `${run}-input` });
    expect(await launcher.launch(delivery)).toEqual({ run, duplicate: true });
    const read = core.readNamespacedSecret({ namespace: app.name, name: `${run}-input` });
    await expect(read).rejects.toSatisfy(isNotFound);
  });

  it('with matchSenderId, a run of the trigger with the same sender id makes a delivery a duplicate', async () => {
    const r = route('allow', 'resigned');
    const first = await launcher.launch({ route: r, deliveryId: 'sender-1', key: 'signed-a', input: {} });
    const retry = { route: r, deliveryId: 'sender-1', key: 'signed-b', input: {} };
    expect(await launcher.launch({ ...retry, matchSenderId: true })).toEqual({
      run: first.run,
      duplicate: true,
    });
    expect(await jobsOf('resigned')).toHaveLength(1);
    // Without it (schemes where a replay could plant the id), the signed key alone decides.
    expect((await launcher.launch(retry)).duplicate).toBe(false);
    expect(await jobsOf('resigned')).toHaveLength(2);
  });

  it('a wait whose client went away is freed at once', async () => {
    const r = route('stuck', 'abandoned');
    const { run } = await launcher.launch({ route: r, deliveryId: 'a1', input: {} });
    const gone = new AbortController();
    const waiting = launcher.wait(r, run, 60_000, gone.signal);
    expect(launcher.waiting).toBe(1);
    gone.abort();
    expect(await waiting).toBeUndefined();
    expect(launcher.waiting).toBe(0);
  });

  it('answers ApiUnavailableError once the API server is gone', async () => {
    const server = await startApiServer();
    let stopped = false;
    try {
      const viaExtra = new KubeLauncher(asIngressVia(server), {}, log, { requestTimeoutMs: 3000 });
      const r = route('allow', 'outage');
      expect((await viaExtra.launch({ route: r, deliveryId: 'o1', input: {} })).duplicate).toBe(false);
      await server.stop();
      stopped = true;
      await expect(viaExtra.launch({ route: r, deliveryId: 'o2', input: {} })).rejects.toBeInstanceOf(
        ApiUnavailableError,
      );
      expect((await jobsOf('outage')).map((j: V1Job) => j.metadata?.name)).toEqual([
        runName(app.name, 'outage', 'o1'),
      ]);
      await viaExtra.stop();
    } finally {
      if (!stopped) await server.stop();
    }
  });
});
