import type { V1Job } from '@kubernetes/client-node';
import type { Workflow as WorkflowObject } from '../../../api/v1alpha1/index.ts';
import { Labels } from '../../../api/v1alpha1/index.ts';
import type { Config } from '../../config.ts';
import { ownChanged } from '../../runtime/predicates.ts';
import type { ControllerManager, ObjectKey } from '../../runtime/types.ts';
import { eventRecorder } from '../events.ts';
import { type Cached, RUN_JOBS, WORKFLOWS } from '../resources.ts';
import { workflowApi } from './apply.ts';
import { WorkflowReconciler } from './reconcile.ts';

/** A run's Job → its Workflow, by label (the owner reference says the same for the ingress's Jobs). */
export const jobWorkflow = (job: {
  metadata?: { namespace?: string; labels?: Record<string, string> };
}): ObjectKey[] => {
  const name = job.metadata?.labels?.[Labels.workflow];
  return name && job.metadata?.namespace ? [{ namespace: job.metadata.namespace, name }] : [];
};

export function register(mgr: ControllerManager, _config: Config): void {
  const workflows = mgr.cache<Cached<WorkflowObject>>(WORKFLOWS);
  const jobs = mgr.cache<V1Job>(RUN_JOBS);
  const log = mgr.log.child({ controller: 'workflow' });
  mgr.add({
    for: WORKFLOWS,
    changed: ownChanged,
    watches: [{ resource: RUN_JOBS, map: jobWorkflow }],
    reconciler: new WorkflowReconciler({
      workflows,
      jobs,
      api: workflowApi(mgr.client),
      events: eventRecorder(mgr.client, log),
      conditions: mgr.conditions,
      log,
    }),
    workers: 2,
  });
}
