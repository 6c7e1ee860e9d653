import { CoreV1Api, type KubeConfig, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { requestJSON } from '../../../lib/kube.ts';
import { WORKFLOW, type WorkflowStatus } from '../../api/v1alpha1/index.ts';
import { apiError, codeOf, FIELD_MANAGER, Writer } from '../ssa.ts';

/** Every API call the Workflow reconciler makes beyond its caches. */
export interface WorkflowApi {
  /** Server-side dry run of a Job: the API server's message when it rejects the Job, else undefined. */
  dryRunJob(job: V1Job): Promise<string | undefined>;
  listRunPods(namespace: string, job: string): Promise<V1Pod[]>;
  deleteJob(namespace: string, name: string): Promise<void>;
  applyStatus(
    meta: { namespace: string; name: string; uid: string },
    status: Partial<WorkflowStatus>,
  ): Promise<void>;
}

export function workflowApi(kc: KubeConfig): WorkflowApi {
  const writer = new Writer(kc);
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async dryRunJob(job) {
      const namespace = job.metadata?.namespace ?? '';
      try {
        // Raw JSON: the user's template exactly as written is what the server must judge.
        await requestJSON(kc, {
          method: 'POST',
          path: `/apis/batch/v1/namespaces/${encodeURIComponent(namespace)}/jobs`,
          query: { dryRun: 'All', fieldValidation: 'Strict', fieldManager: FIELD_MANAGER },
          body: job,
          timeoutMs: 30_000,
        });
        return undefined;
      } catch (err) {
        const e = apiError(`dry-run Job in ${namespace}`, err) as Error & { apiMessage?: string };
        // 400: undecodable or unknown fields (strict); 422: invalid. Anything else may pass on a retry.
        if (codeOf(e) === 400 || codeOf(e) === 422) return e.apiMessage || e.message;
        throw e;
      }
    },
    async listRunPods(namespace, job) {
      try {
        const list = await core.listNamespacedPod({
          namespace,
          labelSelector: `batch.kubernetes.io/job-name=${job}`,
        });
        return list.items;
      } catch (err) {
        throw apiError(`list Pods of Job ${namespace}/${job}`, err);
      }
    },
    deleteJob: (namespace, name) =>
      writer.delete({ apiVersion: 'batch/v1', kind: 'Job', metadata: { namespace, name } }, 'Background'),
    applyStatus: (meta, status) => writer.applyStatus(WORKFLOW.kind, WORKFLOW.plural, meta, status),
  };
}
