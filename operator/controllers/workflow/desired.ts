// Pure: observed objects in, desired objects out. No I/O, no clock.
import type { V1Job } from '@kubernetes/client-node';
import { Annotations, Labels, MANAGED_BY, type RunRef, type WorkflowSpec } from '../../api/v1alpha1/index.ts';
import { timeOf } from '../resources.ts';

/** Fits the API's limits on `status.active` and `status.recentRuns`. */
export const MAX_ACTIVE = 1000;
export const MAX_RECENT = 100;
export const MAX_MESSAGE = 4096;

const RESTART_POLICIES = ['Never', 'OnFailure'];

/** A problem the API server would not name clearly, or `undefined`. */
export function templateProblem(spec: WorkflowSpec): string | undefined {
  const pod = spec.jobTemplate.spec.template as { spec?: { restartPolicy?: unknown } };
  const policy = pod.spec?.restartPolicy;
  if (!RESTART_POLICIES.includes(policy as string))
    return `jobTemplate.spec.template.spec.restartPolicy must be Never or OnFailure (got ${policy === undefined ? 'nothing' : JSON.stringify(policy)})`;
  return undefined;
}

/**
 * A Job as the ingress would launch it from this template, for a server-side dry run. A fixed
 * name keeps the API server's message (which names the Job) the same from one check to the next.
 */
export function validationJob(namespace: string, workflow: string, spec: WorkflowSpec): V1Job {
  const meta = spec.jobTemplate.metadata;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: `${workflow.slice(0, 52)}-validate`,
      namespace,
      labels: { ...meta?.labels, [Labels.managedBy]: MANAGED_BY, [Labels.workflow]: workflow },
      ...(meta?.annotations ? { annotations: meta.annotations } : {}),
    },
    spec: spec.jobTemplate.spec as V1Job['spec'],
  };
}

/** `Job.batch "x" is invalid: spec...: Required value` → `spec...: Required value`. */
export const trimJobMessage = (message: string) => message.replace(/^Job\.batch "[^"]*" is invalid: /, '');

type JobCondition = { type?: string; status?: string; lastTransitionTime?: Date | string; message?: string };

/** Only the terminal conditions: SuccessCriteriaMet and FailureTarget precede them while pods finish. */
function terminal(job: V1Job): { result: 'Succeeded' | 'Failed'; condition: JobCondition } | undefined {
  for (const c of (job.status?.conditions ?? []) as JobCondition[]) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete') return { result: 'Succeeded', condition: c };
    if (c.type === 'Failed') return { result: 'Failed', condition: c };
  }
  return undefined;
}

const clip = (s: string | undefined) => (s ? s.slice(0, MAX_MESSAGE) : undefined);

/** One run as status shows it; `previous` (the same run in the last status) keeps a looked-up message. */
export function runOf(job: V1Job, previous?: RunRef): RunRef {
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
    previous?.result === result && previous.message
      ? previous.message
      : end?.result === 'Failed'
        ? clip(end.condition.message)
        : undefined;
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
  /** Runs that finished since the last status: worth one look at their pods' termination message. */
  finished: string[];
}

const created = (j: V1Job) => timeOf(j.metadata?.creationTimestamp) ?? '';
const newestFirst = (a: V1Job, b: V1Job) =>
  created(b).localeCompare(created(a)) || (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? '');

/** Status of a Workflow's runs and the Jobs to prune, from the Jobs that exist and the last status. */
export function planRuns(
  jobs: readonly V1Job[],
  limits: { successfulRunsHistoryLimit: number; failedRunsHistoryLimit: number } | undefined,
  previous: { recentRuns?: RunRef[]; lastRunTime?: string },
): RunsPlan {
  const before = new Map((previous.recentRuns ?? []).map((r) => [r.name, r]));
  const live = jobs.filter((j) => !j.metadata?.deletionTimestamp).sort(newestFirst);
  const runs = live.map((j) => ({ job: j, run: runOf(j, before.get(j.metadata?.name ?? '')) }));

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
  const kept = runs.filter((r) => !prune.has(r.run.name)).map((r) => r.run);
  const newest = live[0] && created(live[0]);
  const lastRunTime = [previous.lastRunTime, newest].filter(Boolean).sort().at(-1);
  return {
    active: kept
      .filter((r) => r.result === 'Running')
      .reverse()
      .slice(0, MAX_ACTIVE),
    recentRuns: kept.slice(0, MAX_RECENT),
    ...(lastRunTime ? { lastRunTime } : {}),
    prune: runs
      .filter((r) => prune.has(r.run.name))
      .map((r) => r.run.name)
      .reverse(),
    finished: kept
      .filter((r) => r.result !== 'Running' && before.get(r.name)?.result !== r.result)
      .map((r) => r.name),
  };
}

/** The termination message of a failed (else any) terminated container of a run's pods. */
export function terminationMessage(
  pods: readonly {
    status?: { containerStatuses?: { state?: { terminated?: { exitCode?: number; message?: string } } }[] };
  }[],
): string | undefined {
  const terminated = pods.flatMap((p) => (p.status?.containerStatuses ?? []).map((c) => c.state?.terminated));
  const pick = terminated.find((t) => t?.message && t.exitCode !== 0) ?? terminated.find((t) => t?.message);
  return clip(pick?.message?.trim());
}
