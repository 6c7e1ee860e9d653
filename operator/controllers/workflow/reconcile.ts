import type { V1Job } from '@kubernetes/client-node';
import type { Logger } from '../../../lib/log.ts';
import {
  ConditionType,
  Labels,
  Reason,
  type RunRef,
  WORKFLOW,
  type Workflow as WorkflowObject,
  WorkflowSpec,
  type WorkflowStatus,
} from '../../api/v1alpha1/index.ts';
import {
  type Cache,
  type ConditionMetrics,
  keyString,
  type ObjectKey,
  type Reconciler,
  type Result,
} from '../../runtime/types.ts';
import { Blocked, findCondition, isTrue, markFailed, type Summary, summarize } from '../conditions.ts';
import { type EventRecorder, ReadyAnnouncer } from '../events.ts';
import type { Cached } from '../resources.ts';
import { canonical } from '../ssa.ts';
import type { WorkflowApi } from './apply.ts';
import { planRuns, templateProblem, terminationMessage, trimJobMessage, validationJob } from './desired.ts';

type Workflow = Cached<WorkflowObject>;
type Owned = Partial<WorkflowStatus>;
const OWNED_FIELDS = ['observedGeneration', 'conditions', 'active', 'recentRuns', 'lastRunTime'] as const;

export interface WorkflowDeps {
  workflows: Cache<Workflow>;
  jobs: Cache<V1Job>;
  api: WorkflowApi;
  events: EventRecorder;
  conditions: ConditionMetrics;
  log: Logger;
  now?: () => Date;
}

export const EventReason = { RunSucceeded: 'RunSucceeded', RunFailed: 'RunFailed' } as const;

const pick = (o: Owned): Owned =>
  Object.fromEntries(OWNED_FIELDS.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Owned;

export class WorkflowReconciler implements Reconciler {
  readonly name = 'workflow';
  private readonly now: () => Date;
  private readonly ready: ReadyAnnouncer;
  /**
   * The runs this replica last computed per Workflow. The cache may not show its own last status
   * write yet; without this a finished run would be looked up and announced twice.
   */
  private readonly lastRuns = new Map<string, RunRef[]>();

  constructor(private readonly d: WorkflowDeps) {
    this.now = d.now ?? (() => new Date());
    this.ready = new ReadyAnnouncer(d.events);
  }

  async reconcile(key: ObjectKey): Promise<Result | undefined> {
    const wf = this.d.workflows.get(key);
    if (!wf || wf.metadata.deletionTimestamp) {
      // Its Jobs are owned by it: the garbage collector removes them.
      this.d.conditions.delete(WORKFLOW.kind, key);
      this.ready.forget(key);
      this.lastRuns.delete(keyString(key));
      return undefined;
    }
    const before = pick(wf.status ?? {});
    const now = this.now();
    const generation = wf.metadata.generation ?? 0;
    const parsed = WorkflowSpec.safeParse(wf.spec);
    let summary: Summary;
    let runs: ReturnType<typeof planRuns>;
    try {
      summary = await this.validate(key, wf, parsed, before);
      // Runs are tracked whatever the template's state: Jobs launched before an edit still run.
      runs = await this.runs(key, wf, parsed.success ? parsed.data : undefined, before);
    } catch (err) {
      await this.failed(wf, before, err, now);
      throw err;
    }
    const status: Owned = {
      observedGeneration: generation,
      conditions: summarize(before.conditions, summary, generation, now),
      active: runs.active,
      recentRuns: runs.recentRuns,
      ...(runs.lastRunTime ? { lastRunTime: runs.lastRunTime } : {}),
    };
    await this.writeStatus(wf, before, status);
    this.d.conditions.set(WORKFLOW.kind, key, status.conditions ?? []);
    this.ready.announce(wf, before.conditions, summary);
    return undefined;
  }

  /**
   * Checks the job template once per generation (a dry run is an API call, and Job events
   * reconcile this object often); otherwise the last verdict stands.
   */
  private async validate(
    key: ObjectKey,
    wf: Workflow,
    parsed: ReturnType<typeof WorkflowSpec.safeParse>,
    before: Owned,
  ): Promise<Summary> {
    const ready = findCondition(before.conditions, ConditionType.Ready);
    const settled = ready && ready.reason !== Reason.ReconcileFailed && ready.status !== 'Unknown';
    if (settled && before.observedGeneration === wf.metadata.generation)
      return {
        ready: ready.status === 'True',
        reason: ready.reason,
        message: ready.message,
        stalled: isTrue(before.conditions, ConditionType.Stalled),
      };
    try {
      if (!parsed.success) throw new Blocked(Reason.InvalidSpec, parsed.error.message);
      if (key.name.length > 63)
        throw new Blocked(
          Reason.InvalidSpec,
          'name must be at most 63 characters: it is used as a label value',
        );
      const problem = templateProblem(parsed.data);
      if (problem) throw new Blocked(Reason.InvalidJobTemplate, problem);
      const rejected = await this.d.api.dryRunJob(validationJob(key.namespace, key.name, parsed.data));
      if (rejected) throw new Blocked(Reason.InvalidJobTemplate, trimJobMessage(rejected));
      return {
        ready: true,
        reason: Reason.Succeeded,
        message: 'Job template accepted by a server-side dry run',
      };
    } catch (err) {
      if (!(err instanceof Blocked)) throw err;
      return { ready: false, reason: err.reason, message: err.message, stalled: true };
    }
  }

  private async runs(key: ObjectKey, wf: Workflow, spec: WorkflowSpec | undefined, before: Owned) {
    const uid = wf.metadata.uid;
    const jobs = this.d.jobs.list(key.namespace).filter((j) => {
      if (j.metadata?.labels?.[Labels.workflow] !== key.name) return false;
      // A Job of an earlier Workflow of the same name is on its way out with its owner.
      const owner = j.metadata?.ownerReferences?.find((r) => r.controller);
      return !owner || owner.uid === uid;
    });
    const plan = planRuns(jobs, spec, {
      recentRuns: this.lastRuns.get(keyString(key)) ?? before.recentRuns,
      lastRunTime: before.lastRunTime,
    });
    for (const name of plan.prune) await this.d.api.deleteJob(key.namespace, name);
    for (const name of plan.finished) {
      const run = plan.recentRuns.find((r) => r.name === name);
      if (!run) continue;
      const message = terminationMessage(await this.d.api.listRunPods(key.namespace, name));
      if (message) run.message = message;
      const failed = run.result === 'Failed';
      this.d.events.record(
        wf,
        failed ? 'Warning' : 'Normal',
        failed ? EventReason.RunFailed : EventReason.RunSucceeded,
        `Run ${name}${run.trigger ? ` (trigger ${run.trigger})` : ''} ${failed ? 'failed' : 'succeeded'}${run.message ? `: ${run.message}` : ''}`,
      );
    }
    this.lastRuns.set(keyString(key), plan.recentRuns);
    return plan;
  }

  private async writeStatus(wf: Workflow, before: Owned, status: Owned): Promise<void> {
    if (canonical(before) === canonical(status)) return;
    const { namespace = '', name = '', uid = '' } = wf.metadata;
    await this.d.api.applyStatus({ namespace, name, uid }, status);
  }

  /** A transient error: status says why (the rest of it unchanged); the queue retries. */
  private async failed(wf: Workflow, before: Owned, err: unknown, now: Date): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    const status = {
      ...before,
      conditions: markFailed(before.conditions, message, wf.metadata.generation ?? 0, now),
    };
    try {
      await this.writeStatus(wf, before, status);
    } catch (writeErr) {
      this.d.log.warn({ err: (writeErr as Error).message }, 'could not record the failure in status');
    }
  }
}
