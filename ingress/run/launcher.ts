import { performance } from 'node:perf_hooks';
import { BatchV1Api, CoreV1Api, type KubeConfig, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { Informer } from '../../lib/informer.ts';
import { errorMessage, isConflict, isNotFound } from '../../lib/kube.ts';
import type { Logger } from '../../lib/log.ts';
import { Labels, MANAGED_BY, type Route } from '../../operator/api/v1alpha1/index.ts';
import {
  ApiUnavailableError,
  type Delivery,
  type Launcher,
  type LaunchResult,
  RunActiveError,
  type RunOutcome,
} from '../types.ts';
import { type BuildOptions, buildRun } from './job.ts';
import { launchError, makeClient, makePoster } from './kube.ts';

/** Metric callbacks, so this module needs no prom-client. */
export interface LauncherHooks {
  /** A Job create call succeeded, taking this long. */
  onJobCreated?(seconds: number): void;
  /** A new run started (not a duplicate). */
  onRunStarted?(route: Route): void;
  /** A run this launcher started finished (once per Job), after running this long. */
  onRunFinished?(route: Route, result: RunOutcome['result'], seconds: number): void;
}

export interface LauncherOptions extends BuildOptions {
  /** Timeout of each API call (default 10 s). */
  requestTimeoutMs?: number;
}

/** The finished Job, 'deleted' if it went away unfinished, undefined at the timeout. */
type Waiter = (job: V1Job | 'deleted' | undefined) => void;

/**
 * Launches runs as Jobs and follows them with one Job informer (label managed-by=hookgate, all
 * namespaces). On the request path it calls the API server only to create (and, for
 * `concurrencyPolicy: Replace`, delete); everything else is read from the informer.
 */
export class KubeLauncher implements Launcher {
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;
  private readonly post: ReturnType<typeof makePoster>;
  private readonly jobs: Informer<V1Job>;
  /** Jobs this launcher created and has not seen finish, by uid: the ones onRunFinished reports. */
  private readonly started = new Map<string, Route>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  /** Forbid/Replace launches of one workflow run one at a time, so they see each other's Jobs. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    kc: KubeConfig,
    private readonly hooks: LauncherHooks,
    private readonly log: Logger,
    private readonly opts: LauncherOptions = {},
  ) {
    const timeout = opts.requestTimeoutMs ?? 10_000;
    this.batch = makeClient(kc, BatchV1Api, timeout);
    this.core = makeClient(kc, CoreV1Api, timeout);
    this.post = makePoster(kc, timeout);
    const jobs = {
      group: 'batch',
      version: 'v1',
      plural: 'jobs',
      labelSelector: `${Labels.managedBy}=${MANAGED_BY}`,
    };
    this.jobs = new Informer<V1Job>(kc, jobs, [], log);
    this.jobs.addEventHandler({
      add: (job) => this.observe(job),
      update: (_old, job) => this.observe(job),
      delete: (job) => this.forget(job),
    });
  }

  /** True once the Job informer has loaded; Forbid and Replace answer 503 before that. */
  get ready(): boolean {
    return this.jobs.hasSynced();
  }

  /** Starts the Job informer; resolves once it has loaded. */
  start(): Promise<void> {
    this.jobs.start();
    return this.jobs.waitForSync();
  }

  async stop(): Promise<void> {
    await this.jobs.stop();
    for (const set of this.waiters.values()) for (const w of set) w(undefined);
    this.waiters.clear();
  }

  async launch(delivery: Delivery): Promise<LaunchResult> {
    const run = buildRun(delivery, this.opts);
    const { route } = delivery;
    const policy = route.workflow.spec.concurrencyPolicy;
    if (policy === 'Allow') return this.create(route, run);
    return this.serially(`${route.namespace}/${route.workflow.name}`, async () => {
      if (!this.jobs.hasSynced()) throw new ApiUnavailableError('the run cache has not loaded yet');
      const name = run.job.metadata!.name!;
      // This delivery's own Job exists: a duplicate, whatever else runs.
      if (this.jobs.get({ namespace: route.namespace, name })) return this.create(route, run);
      const active = this.activeRuns(route).filter((j) => j.metadata?.name !== name);
      if (policy === 'Forbid' && active[0]) throw new RunActiveError(active[0].metadata!.name!);
      if (policy === 'Replace') await Promise.all(active.map((j) => this.delete(j)));
      return this.create(route, run);
    });
  }

  async wait(route: Route, run: string, timeoutMs: number): Promise<RunOutcome | undefined> {
    const job = await this.finished(route.namespace, run, timeoutMs);
    if (job === 'deleted')
      return { run, result: 'Failed', message: 'the run was deleted before it finished' };
    return job && this.outcome(job);
  }

  private async create(
    route: Route,
    { job, inputSecret }: ReturnType<typeof buildRun>,
  ): Promise<LaunchResult> {
    const namespace = route.namespace;
    const run = job.metadata!.name!;
    let uid: string;
    let duplicate = false;
    const t0 = performance.now();
    try {
      const created = await this.post<V1Job>(`/apis/batch/v1/namespaces/${namespace}/jobs`, job);
      this.hooks.onJobCreated?.((performance.now() - t0) / 1000);
      uid = created.metadata!.uid!;
      this.started.set(uid, route);
      this.jobs.add(created);
    } catch (err) {
      if (!isConflict(err)) throw launchError(err);
      duplicate = true;
      uid = await this.uidOf(namespace, run);
    }
    // Also for a duplicate: the first attempt may have died between the two creates.
    try {
      await this.post(`/api/v1/namespaces/${namespace}/secrets`, inputSecret(uid));
    } catch (err) {
      if (!isConflict(err)) throw launchError(err);
    }
    if (!duplicate) this.hooks.onRunStarted?.(route);
    return { run, duplicate };
  }

  private async uidOf(namespace: string, name: string): Promise<string> {
    const cached = this.jobs.get({ namespace, name });
    if (cached?.metadata?.uid && !cached.metadata.deletionTimestamp) return cached.metadata.uid;
    try {
      return (await this.batch.readNamespacedJob({ namespace, name })).metadata!.uid!;
    } catch (err) {
      // Deleted since our create failed: the sender's retry will create it anew.
      if (isNotFound(err))
        throw new ApiUnavailableError('the run was deleted while launching', { cause: err });
      throw launchError(err);
    }
  }

  private async delete(job: V1Job) {
    const { name, namespace } = job.metadata as { name: string; namespace: string };
    try {
      await this.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' });
      this.log.info({ namespace, run: name }, 'deleted the active run (concurrencyPolicy Replace)');
    } catch (err) {
      if (!isNotFound(err)) throw launchError(err);
    }
  }

  private activeRuns(route: Route): V1Job[] {
    const active: V1Job[] = [];
    for (const job of this.jobs.list(route.namespace)) {
      const m = job.metadata;
      if (!m || m.deletionTimestamp || finishedAs(job)) continue;
      if (m.ownerReferences?.some((o) => o.controller && o.uid === route.workflow.uid)) active.push(job);
    }
    return active;
  }

  private async serially<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.catch(() => {});
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return result;
  }

  /** Resolves with the Job once it has finished, or undefined at the timeout. */
  private finished(
    namespace: string,
    name: string,
    timeoutMs: number,
  ): Promise<V1Job | 'deleted' | undefined> {
    const job = this.jobs.get({ namespace, name });
    if (job && finishedAs(job)) return Promise.resolve(job);
    const key = `${namespace}/${name}`;
    return new Promise((resolve) => {
      const set = this.waiters.get(key) ?? new Set<Waiter>();
      this.waiters.set(key, set);
      const done: Waiter = (j) => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
        resolve(j);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      set.add(done);
    });
  }

  private observe(job: V1Job) {
    const result = finishedAs(job);
    if (!result) return;
    const key = `${job.metadata?.namespace}/${job.metadata?.name}`;
    for (const w of [...(this.waiters.get(key) ?? [])]) w(job);
    const uid = job.metadata?.uid ?? '';
    const route = this.started.get(uid);
    if (route) {
      this.started.delete(uid);
      this.hooks.onRunFinished?.(route, result, runSeconds(job));
    }
  }

  private forget(job: V1Job) {
    this.started.delete(job.metadata?.uid ?? '');
    // A run deleted before it finished (Replace, or by hand) never will: tell its waiters now.
    const key = `${job.metadata?.namespace}/${job.metadata?.name}`;
    if (!finishedAs(job)) for (const w of [...(this.waiters.get(key) ?? [])]) w('deleted');
  }

  private async outcome(job: V1Job): Promise<RunOutcome> {
    const run = job.metadata!.name!;
    const result = finishedAs(job) ?? 'Failed';
    try {
      const pods = await this.core.listNamespacedPod({
        namespace: job.metadata!.namespace!,
        labelSelector: `batch.kubernetes.io/controller-uid=${job.metadata!.uid}`,
      });
      return { run, result, ...termination(pods.items) };
    } catch (err) {
      // The result is known; the exit code and message are a bonus.
      this.log.warn({ run, error: errorMessage(err) }, 'could not read the run pods');
      return { run, result };
    }
  }
}

/** Complete or Failed (the terminal conditions, set once the pods are gone), else undefined. */
export function finishedAs(job: V1Job): RunOutcome['result'] | undefined {
  for (const c of job.status?.conditions ?? []) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete') return 'Succeeded';
    if (c.type === 'Failed') return 'Failed';
  }
  return undefined;
}

/** Timestamps are Dates in listed objects and strings in watched ones. */
const millis = (t: Date | string | undefined) => (t === undefined ? Number.NaN : new Date(t).getTime());

function runSeconds(job: V1Job): number {
  const end = job.status?.conditions?.find(
    (c) => c.status === 'True' && (c.type === 'Complete' || c.type === 'Failed'),
  );
  const seconds =
    (millis(job.status?.completionTime ?? end?.lastTransitionTime) -
      millis(job.status?.startTime ?? job.metadata?.creationTimestamp)) /
    1000;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : 0;
}

/** Exit code and termination message of the latest pod: a failing container first. */
export function termination(pods: V1Pod[]): Pick<RunOutcome, 'exitCode' | 'message'> {
  const latest = [...pods].sort(
    (a, b) => millis(b.metadata?.creationTimestamp) - millis(a.metadata?.creationTimestamp),
  );
  for (const pod of latest) {
    const states = (pod.status?.containerStatuses ?? []).flatMap((s) =>
      s.state?.terminated ? [s.state.terminated] : [],
    );
    const t = states.find((s) => s.exitCode !== 0) ?? states[0];
    if (t) return { exitCode: t.exitCode, ...(t.message ? { message: t.message } : {}) };
  }
  return {};
}
