// Pure: observed objects in, desired objects out. No I/O, no clock.
import type { V1Job } from '@kubernetes/client-node';
import { Annotations, Labels, type RunRef, type WorkflowSpec } from '../../../api/v1alpha1/index.ts';
import { MAX_MESSAGE, publishedTermination, terminal } from '../../../lib/run.ts';
import { millis, timeOf } from '../../../lib/time.ts';

/** Fits the API's limits on `status.active` and `status.recentRuns`. */
export const MAX_ACTIVE = 1000;
export const MAX_RECENT = 100;

const RESTART_POLICIES = ['Never', 'OnFailure'];

/** A problem the API server would not name clearly, or `undefined`. */
export function templateProblem(spec: WorkflowSpec): string | undefined {
  const pod = spec.jobTemplate.spec.template as { spec?: { restartPolicy?: unknown } };
  const policy = pod.spec?.restartPolicy;
  if (!RESTART_POLICIES.includes(policy as string))
    return `jobTemplate.spec.template.spec.restartPolicy must be Never or OnFailure (got ${policy === undefined ? 'nothing' : JSON.stringify(policy)})`;
  return undefined;
}

/** `Job.batch "x" is invalid: spec...: Required value` → `spec...: Required value`. */
export const trimJobMessage = (message: string) => message.replace(/^Job\.batch "[^"]*" is invalid: /, '');

/** One run as status shows it: the published termination message, else the Failed condition's. */
export function runOf(job: V1Job): RunRef {
  const end = terminal(job);
  const result = end?.result ?? 'Running';
  const run: RunRef = { name: job.metadata?.name ?? '', result };
  const trigger = job.metadata?.labels?.[Labels.trigger];
  const deliveryId = job.metadata?.annotations?.[Annotations.deliveryId];
  const startTime = timeOf(job.status?.startTime) ?? timeOf(job.metadata?.creationTimestamp);
  const completionTime =
    end && (timeOf(job.status?.completionTime) ?? timeOf(end.condition.lastTransitionTime));
  if (trigger) run.trigger = trigger;
  if (deliveryId) run.deliveryId = deliveryId;
  if (startTime) run.startTime = startTime;
  if (completionTime) run.completionTime = completionTime;
  const message =
    publishedTermination(job)?.message ??
    (end?.result === 'Failed' ? end.condition.message?.slice(0, MAX_MESSAGE) : undefined);
  if (message) run.message = message;
  return run;
}

export interface RunsPlan {
  active: RunRef[];
  /** Newest first. */
  recentRuns: RunRef[];
  lastRunTime?: string;
  /** Finished Jobs beyond the history limits, oldest first. */
  prune: string[];
  /** Milliseconds until the first Job kept past the limits only to block replays may go. */
  retryPruneAfter?: number;
  /** Finished runs whose result (exit code, termination message) is not on their Job yet. */
  publish: string[];
}

const created = (j: V1Job) => timeOf(j.metadata?.creationTimestamp) ?? '';
const newestFirst = (a: V1Job, b: V1Job) =>
  created(b).localeCompare(created(a)) || (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? '');

/**
 * Status of a Workflow's runs and the Jobs to prune, from the Jobs that exist. A Job past the history
 * limits whose `replay-until` is still ahead stays (out of status) until then: it is what makes a
 * replayed delivery a duplicate.
 */
export function planRuns(
  jobs: readonly V1Job[],
  limits: { successfulRunsHistoryLimit: number; failedRunsHistoryLimit: number } | undefined,
  previous: { lastRunTime?: string },
  now: Date,
): RunsPlan {
  const live = jobs.filter((j) => !j.metadata?.deletionTimestamp).sort(newestFirst);
  const runs = live.map((j) => ({ job: j, run: runOf(j) }));

  const prune = new Set<string>();
  if (limits) {
    // By start of the run, newest first: "the last N runs" is what a person expects to keep.
    for (const [result, keep] of [
      ['Succeeded', limits.successfulRunsHistoryLimit],
      ['Failed', limits.failedRunsHistoryLimit],
    ] as const) {
      for (const { run } of runs.filter((r) => r.run.result === result).slice(keep)) prune.add(run.name);
    }
  }
  const kept = runs.filter((r) => !prune.has(r.run.name));
  const newest = live[0] && created(live[0]);
  const lastRunTime = [previous.lastRunTime, newest].filter(Boolean).sort().at(-1);
  let retryPruneAfter: number | undefined;
  const due = runs.filter(({ job, run }) => {
    if (!prune.has(run.name)) return false;
    const left = millis(job.metadata?.annotations?.[Annotations.replayUntil]) - now.getTime();
    if (!(left > 0)) return true;
    retryPruneAfter = Math.min(retryPruneAfter ?? Infinity, left);
    return false;
  });
  return {
    active: kept
      .map((r) => r.run)
      .filter((r) => r.result === 'Running')
      .reverse()
      .slice(0, MAX_ACTIVE),
    recentRuns: kept.map((r) => r.run).slice(0, MAX_RECENT),
    ...(lastRunTime ? { lastRunTime } : {}),
    prune: due.map((r) => r.run.name).reverse(),
    ...(retryPruneAfter !== undefined ? { retryPruneAfter } : {}),
    publish: kept
      .filter(({ job, run }) => run.result !== 'Running' && !job.metadata?.annotations?.[Annotations.result])
      .map((r) => r.run.name),
  };
}
