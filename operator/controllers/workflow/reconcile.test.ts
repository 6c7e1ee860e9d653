// The loop body with in-memory caches and a recording API: which runs get their result published.
import type { KubernetesObject, V1Job } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Workflow } from '../../../api/v1alpha1/index.ts';
import type { Cache, ObjectKey } from '../../runtime/types.ts';
import type { Cached } from '../resources.ts';
import type { WorkflowApi } from './apply.ts';
import { MAX_RECENT } from './desired.ts';
import { WorkflowReconciler } from './reconcile.ts';

class ListCache<T extends KubernetesObject> implements Cache<T> {
  constructor(readonly items: T[]) {}
  get(k: ObjectKey) {
    return this.items.find((o) => o.metadata?.namespace === k.namespace && o.metadata?.name === k.name);
  }
  list(namespace?: string) {
    return this.items.filter((o) => namespace === undefined || o.metadata?.namespace === namespace);
  }
}

const NOW = new Date('2026-12-01T12:00:00Z');
const at = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();

const workflow: Cached<Workflow> = {
  apiVersion: 'hookgate.io/v1alpha1',
  kind: 'Workflow',
  metadata: { namespace: 'ns', name: 'wf', uid: 'wf-uid', generation: 1 },
  spec: {
    jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [] } } } },
    input: { path: '/in.json' },
    concurrencyPolicy: 'Allow',
    successfulRunsHistoryLimit: 1000,
    failedRunsHistoryLimit: 1000,
  },
  status: {
    observedGeneration: 1,
    conditions: ['Ready', 'Reconciling', 'Stalled'].map((type) => ({
      type,
      status: type === 'Ready' ? 'True' : 'False',
      reason: 'Succeeded',
      message: type === 'Ready' ? 'A run of this Workflow passed a server-side dry run' : '',
      lastTransitionTime: at(3600),
      observedGeneration: 1,
    })),
  },
} as Cached<Workflow>;

/** A finished run without its result annotation yet; a larger i is older. */
const finishedJob = (i: number): V1Job => ({
  metadata: {
    namespace: 'ns',
    name: `run-${i}`,
    uid: `uid-${i}`,
    creationTimestamp: at(i + 10) as unknown as Date,
    labels: { 'hookgate.io/workflow': 'wf', 'hookgate.io/trigger': 't' },
    ownerReferences: [
      { apiVersion: 'hookgate.io/v1alpha1', kind: 'Workflow', name: 'wf', uid: 'wf-uid', controller: true },
    ],
  },
  status: {
    conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: at(i) as unknown as Date }],
  },
});

function setup(
  jobs: V1Job[],
  wf = workflow,
  dryRun: () => Promise<string | undefined> = async () => undefined,
) {
  const published: string[] = [];
  const statuses: unknown[] = [];
  const api: WorkflowApi = {
    dryRunJob: dryRun,
    listRunPods: async () => [],
    publishResult: async (_ns, job) => {
      published.push(job);
    },
    deleteJob: async () => {},
    applyListing: async () => {},
    applyStatus: async (...args) => {
      statuses.push(args);
    },
  };
  const reconciler = new WorkflowReconciler({
    workflows: new ListCache([wf]),
    jobs: new ListCache(jobs),
    api,
    events: { record: () => {} },
    conditions: { set: () => {}, delete: () => {} },
    log: pino({ level: 'silent' }),
    now: () => NOW,
  });
  return { reconciler, published, statuses };
}

describe('WorkflowReconciler results', () => {
  it('publishes the result of every finished run, also of those older than the recent ones status shows', async () => {
    const jobs = Array.from({ length: MAX_RECENT + 50 }, (_, i) => finishedJob(i));
    const { reconciler, published } = setup(jobs);
    await reconciler.reconcile({ namespace: 'ns', name: 'wf' });
    expect(published.sort()).toEqual(jobs.map((j) => j.metadata!.name!).sort());
    // Once published (the cache may not show the annotation yet), never again.
    await reconciler.reconcile({ namespace: 'ns', name: 'wf' });
    expect(published).toHaveLength(jobs.length);
  });
});

describe('WorkflowReconciler dry run', () => {
  it('tries again, not Stalled, while the run-owners policy has not seen the listing just applied', async () => {
    const changed = { ...workflow, metadata: { ...workflow.metadata, generation: 2 } };
    const refusal =
      "jobs.batch \"run-1\" is forbidden: ValidatingAdmissionPolicy 'hookgate-run-owners' with binding 'hookgate-run-owners' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction";
    const { reconciler, statuses } = setup([], changed, async () => refusal);
    await expect(reconciler.reconcile({ namespace: 'ns', name: 'wf' })).rejects.toThrow('no params found');
    expect(JSON.stringify(statuses)).not.toContain('InvalidJobTemplate');
  });
});
