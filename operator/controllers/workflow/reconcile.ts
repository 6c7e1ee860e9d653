import type { V1Job } from '@kubernetes/client-node';
import {
  ConditionType,
  EventReason,
  Labels,
  Reason,
  RUNS_NOT_ENABLED,
  WORKFLOW,
  type Workflow as WorkflowObject,
  WorkflowSpec,
  type WorkflowStatus,
} from '../../../api/v1alpha1/index.ts';
import { controllerRef } from '../../../lib/cache-views.ts';
import { InputSchemaError, SchemaCompiler } from '../../../lib/input-schema.ts';
import type { Logger } from '../../../lib/log.ts';
import { termination, validationRun } from '../../../lib/run.ts';
import type { Cache, ConditionMetrics, ObjectKey, Reconciler, Result } from '../../runtime/types.ts';
import { findCondition, isTrue, type Summary } from '../conditions.ts';
import { StalledError, verdictOf, WaitingError } from '../errors.ts';
import type { EventRecorder } from '../events.ts';
import type { Cached } from '../resources.ts';
import { StatusPatcher } from '../status.ts';
import type { WorkflowApi } from './apply.ts';
import { planRuns, runOf, templateProblem, trimJobMessage } from './desired.ts';
import { WorkflowListings } from './listing.ts';

type Workflow = Cached<WorkflowObject>;

export interface WorkflowDeps {
  workflows: Cache<Workflow>;
  jobs: Cache<V1Job>;
  api: WorkflowApi;
  events: EventRecorder;
  conditions: ConditionMetrics;
  log: Logger;
  now?: () => Date;
}

/** How often a Workflow in a namespace that has not opted in to runs checks again. */
const RECHECK_MS = 30_000;

/** The run-owners policy's refusal while it has not seen the namespace's WorkflowListing. */
const PARAMS_NOT_SEEN = 'no params found for policy binding';

/** Results published at once per reconcile. */
const PUBLISH_PARALLEL = 8;

export class WorkflowReconciler implements Reconciler {
  readonly name = 'workflow';
  private readonly now: () => Date;
  private readonly status: StatusPatcher<WorkflowStatus>;
  private readonly schemas = new SchemaCompiler();
  /**
   * Runs whose result this replica published, by Job uid: the cache may not show the annotation
   * yet, and the pods must not be read (nor the Event sent) twice.
   */
  private readonly published = new Set<string>();
  private readonly listings: WorkflowListings;

  constructor(private readonly d: WorkflowDeps) {
    this.now = d.now ?? (() => new Date());
    this.listings = new WorkflowListings(d.workflows, (listing) => d.api.applyListing(listing));
    this.status = new StatusPatcher<WorkflowStatus>(
      WORKFLOW.kind,
      ['observedGeneration', 'conditions', 'active', 'recentRuns', 'lastRunTime'],
      d,
    );
  }

  async reconcile(key: ObjectKey, log: Logger = this.d.log): Promise<Result | undefined> {
    const wf = this.d.workflows.get(key);
    if (!wf || wf.metadata.deletionTimestamp) {
      // Its Jobs are owned by it: the garbage collector removes them. No new one is admitted.
      this.status.forget(key);
      await this.listings.sync(key.namespace);
      return undefined;
    }
    const before = this.status.snapshot(wf);
    const now = this.now();
    const parsed = WorkflowSpec.safeParse(wf.spec);
    let summary: Summary;
    let runs: ReturnType<typeof planRuns>;
    try {
      // Before it can turn Ready (and its triggers route to it): its runs are admitted only once listed.
      await this.listings.sync(key.namespace);
      summary = await this.validate(key, wf, parsed, before);
      // Runs are tracked whatever the template's state: Jobs launched before an edit still run.
      runs = await this.runs(key, wf, parsed.success ? parsed.data : undefined, before, now);
    } catch (err) {
      await this.status.fail(wf, before, err, now, log);
      throw err;
    }
    const { active, recentRuns, lastRunTime } = runs;
    // A namespace that has not opted in may be labelled any time, with no event the operator sees.
    const recheck = summary.reason === Reason.RunsNotEnabled ? RECHECK_MS : undefined;
    const requeueAfter = Math.min(runs.retryPruneAfter ?? Infinity, recheck ?? Infinity);
    return this.status.finish(
      wf,
      before,
      summary,
      { active, recentRuns, ...(lastRunTime ? { lastRunTime } : {}) },
      now,
      Number.isFinite(requeueAfter) ? { requeueAfter } : {},
    );
  }

  /**
   * Ready means every delivery can run: the input schema compiles exactly as the ingress compiles
   * it, and the API server accepts exactly the Job the ingress would create (a dry run). Checked
   * once per generation (a dry run is an API call, and Job events reconcile this object often);
   * otherwise the last verdict stands.
   */
  private async validate(
    key: ObjectKey,
    wf: Workflow,
    parsed: ReturnType<typeof WorkflowSpec.safeParse>,
    before: Partial<WorkflowStatus>,
  ): Promise<Summary> {
    const ready = findCondition(before.conditions, ConditionType.Ready);
    const settled =
      ready &&
      ready.status !== 'Unknown' &&
      ready.reason !== Reason.ReconcileFailed &&
      ready.reason !== Reason.RunsNotEnabled;
    if (settled && before.observedGeneration === wf.metadata.generation)
      return {
        ready: ready.status === 'True',
        reason: ready.reason,
        message: ready.message,
        stalled: isTrue(before.conditions, ConditionType.Stalled),
      };
    try {
      if (!parsed.success) throw new StalledError(Reason.InvalidSpec, parsed.error.message);
      if (key.name.length > 63)
        throw new StalledError(
          Reason.InvalidSpec,
          'name must be at most 63 characters: it is used as a label value',
        );
      const spec = parsed.data;
      const problem = templateProblem(spec);
      if (problem) throw new StalledError(Reason.InvalidJobTemplate, problem);
      if (spec.inputSchema) {
        try {
          this.schemas.check(spec.inputSchema);
        } catch (err) {
          if (err instanceof InputSchemaError) throw new StalledError(Reason.InvalidInputSchema, err.message);
          throw err;
        }
      }
      const job = validationRun(key.namespace, { name: key.name, uid: wf.metadata.uid ?? '', spec });
      const rejected = await this.d.api.dryRunJob(job);
      // Waiting, not Stalled: a namespace admin's label fixes it, not the Workflow's author.
      if (rejected?.includes(RUNS_NOT_ENABLED))
        throw new WaitingError(Reason.RunsNotEnabled, rejected, RECHECK_MS);
      // The listing this reconcile just applied, not yet in the API server's params informer (seen
      // under load at bench-scale): try again, it is not the template.
      if (rejected?.includes(PARAMS_NOT_SEEN)) throw new Error(rejected);
      if (rejected) throw new StalledError(Reason.InvalidJobTemplate, trimJobMessage(rejected));
      return {
        ready: true,
        reason: Reason.Succeeded,
        message: 'A run of this Workflow passed a server-side dry run',
      };
    } catch (err) {
      const verdict = verdictOf(err);
      if (!verdict) throw err;
      return verdict.summary;
    }
  }

  private async runs(
    key: ObjectKey,
    wf: Workflow,
    spec: WorkflowSpec | undefined,
    before: Partial<WorkflowStatus>,
    now: Date,
  ) {
    const uid = wf.metadata.uid;
    const jobs = this.d.jobs.list(key.namespace).filter((j) => {
      if (j.metadata?.labels?.[Labels.workflow] !== key.name) return false;
      // A Job of an earlier Workflow of the same name is on its way out with its owner.
      const owner = controllerRef(j.metadata);
      return !owner || owner.uid === uid;
    });
    const plan = planRuns(jobs, spec, { lastRunTime: before.lastRunTime }, now);
    for (const name of plan.prune) await this.d.api.deleteJob(key.namespace, name);
    const live = new Set(jobs.map((j) => j.metadata?.uid));
    for (const seen of this.published) if (!live.has(seen)) this.published.delete(seen);
    const byName = new Map(jobs.map((j) => [j.metadata?.name, j]));
    const unpublished = plan.publish
      .map((name) => byName.get(name))
      .filter((j): j is V1Job => !!j && !this.published.has(j.metadata?.uid ?? ''));
    // A few at a time: a burst of runs finishing together must not wait one round trip after another.
    for (let i = 0; i < unpublished.length; i += PUBLISH_PARALLEL)
      await Promise.all(
        unpublished.slice(i, i + PUBLISH_PARALLEL).map((job) => this.publish(key, wf, job, plan)),
      );
    return plan;
  }

  /**
   * The result goes on the Job, where the ingress (which cannot read Pods) answers wait-mode requests
   * from; into status when the run is among the recent ones; and into an Event. Every finished run
   * gets it, not only those status shows.
   */
  private async publish(key: ObjectKey, wf: Workflow, job: V1Job, plan: ReturnType<typeof planRuns>) {
    const name = job.metadata?.name ?? '';
    const jobUid = job.metadata?.uid ?? '';
    const result = termination(await this.d.api.listRunPods(key.namespace, name));
    await this.d.api.publishResult(key.namespace, name, jobUid, result);
    this.published.add(jobUid);
    const run = plan.recentRuns.find((r) => r.name === name) ?? runOf(job);
    if (result.message) run.message = result.message;
    const failed = run.result === 'Failed';
    this.d.events.record(
      wf,
      failed ? 'Warning' : 'Normal',
      failed ? EventReason.RunFailed : EventReason.RunSucceeded,
      `Run ${name}${run.trigger ? ` (trigger ${run.trigger})` : ''} ${failed ? 'failed' : 'succeeded'}${
        result.exitCode !== undefined ? ` with exit code ${result.exitCode}` : ''
      }${run.message ? `: ${run.message}` : ''}`,
    );
  }
}
