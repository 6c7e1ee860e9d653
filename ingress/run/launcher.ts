import { performance } from 'node:perf_hooks';
import type { V1Job } from '@kubernetes/client-node';
import { Labels, MANAGED_BY, type Route } from '../../api/v1alpha1/index.ts';
import { runView } from '../../lib/cache-views.ts';
import { Informer } from '../../lib/informer.ts';
import {
  apiPath,
  isConflict,
  isNotFound,
  JOBS,
  KubeClient,
  metadataAccept,
  SECRETS,
} from '../../lib/kube.ts';
import type { KubeAccess } from '../../lib/kubeconfig.ts';
import type { Logger } from '../../lib/log.ts';
import { buildRun, finishedAs, hasRun, publishedTermination, type Run, runSeconds } from '../../lib/run.ts';
import {
  ApiUnavailableError,
  type Delivery,
  type Launcher,
  type LaunchResult,
  RunActiveError,
  type RunOutcome,
} from '../types.ts';
import { launchError } from './kube.ts';
import { SerialQueues } from './serial.ts';

/** Metric callbacks, so this module needs no prom-client. */
export interface LauncherHooks {
  /** A Job create call succeeded, taking this long. */
  onJobCreated?(seconds: number): void;
  /** A new run started (not a duplicate). */
  onRunStarted?(route: Route): void;
  /** A run this launcher started finished (once per Job), after running this long. */
  onRunFinished?(route: Route, result: RunOutcome['result'], seconds: number): void;
}

export interface LauncherOptions {
  /** Timeout of each API call (default 10 s). */
  requestTimeoutMs?: number;
  maxInputBytes?: number;
}

/** The Job once it satisfies what is waited for, 'deleted' if it went away, undefined at the timeout. */
type Waiter = (job: V1Job | 'deleted' | undefined) => void;

/**
 * How long a wait-mode answer waits, after the run finished, for the operator to publish its exit
 * code and termination message on the Job; without them it answers with the result alone.
 */
const RESULT_GRACE_MS = 10_000;

/**
 * Launches runs as Jobs and follows them with one Job informer (label managed-by=hookgate, all
 * namespaces). On the request path it calls the API server only to create (and, for
 * `concurrencyPolicy: Replace`, delete); everything else is read from the informer.
 */
export class KubeLauncher implements Launcher {
  private readonly api: KubeClient;
  private readonly jobs: Informer<V1Job>;
  /** Jobs this launcher created and has not seen finish, by uid: the ones onRunFinished reports. */
  private readonly started = new Map<string, Route>();
  private readonly waiters = new Map<string, Set<{ until: (job: V1Job) => boolean; done: Waiter }>>();
  /** Forbid/Replace launches of one workflow run one at a time, so they see each other's Jobs. */
  private readonly queues = new SerialQueues();
  /** Job names by `<namespace>/<trigger label>/<delivery label>`: runs by the sender's own id. */
  private readonly bySender = new Map<string, string>();

  constructor(
    kc: KubeAccess,
    private readonly hooks: LauncherHooks,
    private readonly log: Logger,
    private readonly opts: LauncherOptions = {},
  ) {
    this.api = new KubeClient(kc, opts.requestTimeoutMs);
    const jobs = {
      ...JOBS,
      labelSelector: `${Labels.managedBy}=${MANAGED_BY}`,
      // Names, owner, outcome and the published result: not whole Jobs (bench-scale, 10,000 runs).
      transform: runView,
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
    for (const set of this.waiters.values()) for (const w of [...set]) w.done(undefined);
    this.waiters.clear();
  }

  async launch(delivery: Delivery): Promise<LaunchResult> {
    const run = buildRun(delivery, this.opts.maxInputBytes);
    const { route } = delivery;
    // Repeats of a known delivery are answered from the cache, before any call to the API server.
    const known = this.known(run.job, delivery.matchSenderId === true);
    if (known) return { run: known, duplicate: true };
    const policy = route.workflow.spec.concurrencyPolicy;
    if (policy === 'Allow') return this.create(route, run);
    return this.queues.run(`${route.namespace}/${route.workflow.name}`, async () => {
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

  async wait(
    route: Route,
    run: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<RunOutcome | undefined> {
    const deadline = performance.now() + timeoutMs;
    let job = await this.until(route.namespace, run, (j) => finishedAs(j) !== undefined, timeoutMs, signal);
    if (job === 'deleted')
      return { run, result: 'Failed', message: 'the run was deleted before it finished' };
    if (!job) return undefined;
    if (!publishedTermination(job)) {
      const grace = Math.min(RESULT_GRACE_MS, deadline - performance.now());
      const published = await this.until(
        route.namespace,
        run,
        (j) => !!publishedTermination(j),
        grace,
        signal,
      );
      if (published && published !== 'deleted') job = published;
    }
    return { run, result: finishedAs(job)!, ...publishedTermination(job) };
  }

  private async create(route: Route, { job, inputSecret }: Run): Promise<LaunchResult> {
    const namespace = route.namespace;
    const run = job.metadata!.name!;
    let uid: string;
    let duplicate = false;
    const t0 = performance.now();
    try {
      const created = await this.post<V1Job>(apiPath({ ...JOBS, namespace }), job);
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
      await this.post(apiPath({ ...SECRETS, namespace }), inputSecret(uid));
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
      const job = await this.api.request<V1Job>({ method: 'GET', path: jobPath(namespace, name) });
      return job.metadata!.uid!;
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
      await this.api.request({
        method: 'DELETE',
        path: jobPath(namespace, name),
        body: { propagationPolicy: 'Background' },
      });
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

  /**
   * A create, answered with the new object's metadata only: the Job's spec (the pod template) and
   * the input Secret's data are what the API server would otherwise encode, and this process
   * decrypt and parse, for nothing (ingress CPU per run, `make bench`).
   */
  private post<T>(path: string, body: unknown): Promise<T> {
    return this.api.request<T>({ method: 'POST', path, body, accept: metadataAccept() });
  }

  /**
   * The name of a cached run that makes this one a duplicate, so that no call to the API server is
   * needed: this delivery's own Job once its pod has run (so its input Secret existed; a Job
   * without that evidence goes the create path, which restores a Secret an earlier attempt never
   * made), or with `bySenderId` a run of the same trigger with the same sender id. Best effort: a
   * Job another replica created a moment ago is found by the create's AlreadyExists instead.
   */
  private known(job: V1Job, bySenderId: boolean): string | undefined {
    const { namespace, name, labels } = job.metadata as {
      namespace: string;
      name: string;
      labels: Record<string, string>;
    };
    const own = this.jobs.get({ namespace, name });
    if (own && !own.metadata?.deletionTimestamp && hasRun(own)) return name;
    if (!bySenderId) return undefined;
    const other = this.bySender.get(senderKey(namespace, labels));
    const found = other === undefined ? undefined : this.jobs.get({ namespace, name: other });
    return found && other !== name && !found.metadata?.deletionTimestamp ? other : undefined;
  }

  /** Resolves with the Job once `until` holds for it, 'deleted' when it goes, undefined at the timeout. */
  private until(
    namespace: string,
    name: string,
    until: (job: V1Job) => boolean,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<V1Job | 'deleted' | undefined> {
    const job = this.jobs.get({ namespace, name });
    if (job && until(job)) return Promise.resolve(job);
    if (timeoutMs <= 0 || signal?.aborted) return Promise.resolve(undefined);
    const key = `${namespace}/${name}`;
    return new Promise((resolve) => {
      const set = this.waiters.get(key) ?? new Set();
      this.waiters.set(key, set);
      const waiter = {
        until,
        done: (j: V1Job | 'deleted' | undefined) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', abort);
          set.delete(waiter);
          if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
          resolve(j);
        },
      };
      // A client that went away frees its waiter now, not at the timeout.
      const abort = () => waiter.done(undefined);
      const timer = setTimeout(abort, timeoutMs);
      signal?.addEventListener('abort', abort, { once: true });
      set.add(waiter);
    });
  }

  /** Waiters held, over all runs (for tests). */
  get waiting(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  private observe(job: V1Job) {
    const m = job.metadata;
    if (m?.labels?.[Labels.delivery] && m.name)
      this.bySender.set(senderKey(m.namespace ?? '', m.labels), m.name);
    const key = `${job.metadata?.namespace}/${job.metadata?.name}`;
    for (const w of [...(this.waiters.get(key) ?? [])]) if (w.until(job)) w.done(job);
    const result = finishedAs(job);
    if (!result) return;
    const uid = job.metadata?.uid ?? '';
    const route = this.started.get(uid);
    if (route) {
      this.started.delete(uid);
      this.hooks.onRunFinished?.(route, result, runSeconds(job));
    }
  }

  private forget(job: V1Job) {
    this.started.delete(job.metadata?.uid ?? '');
    const m = job.metadata;
    const sender = senderKey(m?.namespace ?? '', m?.labels ?? {});
    if (this.bySender.get(sender) === m?.name) this.bySender.delete(sender);
    // A run deleted (Replace, history pruning, by hand) tells its waiters now.
    const key = `${job.metadata?.namespace}/${job.metadata?.name}`;
    for (const w of [...(this.waiters.get(key) ?? [])]) w.done(finishedAs(job) ? job : 'deleted');
  }
}

const senderKey = (namespace: string, labels: Record<string, string>) =>
  `${namespace}/${labels[Labels.trigger]}/${labels[Labels.delivery]}`;

const jobPath = (namespace: string, name: string) => apiPath({ ...JOBS, namespace, name });
