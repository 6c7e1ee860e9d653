import type { V1Job, V1Pod, V1PodList } from '@kubernetes/client-node';
import { Annotations, WORKFLOW, type WorkflowStatus } from '../../../api/v1alpha1/index.ts';
import {
  apiError,
  apiPath,
  isNotFound,
  isRefused,
  JOBS,
  type KubeClient,
  metadataAccept,
  PODS,
  statusMessage,
} from '../../../lib/kube.ts';
import type { Termination } from '../../../lib/run.ts';
import { FIELD_MANAGER, Writer } from '../ssa.ts';

/** Every API call the Workflow reconciler makes beyond its caches. */
export interface WorkflowApi {
  /** Server-side dry run of a Job: the API server's message when it rejects the Job, else undefined. */
  dryRunJob(job: V1Job): Promise<string | undefined>;
  listRunPods(namespace: string, job: string): Promise<V1Pod[]>;
  /** Writes a finished run's exit code and termination message on its Job (Annotations.result). */
  publishResult(namespace: string, job: string, uid: string, result: Termination): Promise<void>;
  deleteJob(namespace: string, name: string): Promise<void>;
  applyStatus(
    meta: { namespace: string; name: string; uid: string },
    status: Partial<WorkflowStatus>,
  ): Promise<void>;
}

const jobs = (namespace: string, name?: string) => apiPath({ ...JOBS, namespace, name });

export function workflowApi(client: KubeClient): WorkflowApi {
  const writer = new Writer(client);
  return {
    async dryRunJob(job) {
      const namespace = job.metadata?.namespace ?? '';
      try {
        // Raw JSON: the Job exactly as the ingress would send it is what the server must judge.
        await client.request({
          method: 'POST',
          path: jobs(namespace),
          query: { dryRun: 'All', fieldValidation: 'Strict', fieldManager: FIELD_MANAGER },
          body: job,
          timeoutMs: 30_000,
        });
        return undefined;
      } catch (err) {
        const e = apiError(`dry-run Job in ${namespace}`, err);
        // Refused: the template is the problem (an admission policy's 403 too). Anything else may
        // pass on a retry.
        if (isRefused(err)) return statusMessage(err) || e.message;
        throw e;
      }
    },
    async listRunPods(namespace, job) {
      try {
        const list = await client.request<V1PodList>({
          method: 'GET',
          path: apiPath({ ...PODS, namespace }),
          query: { labelSelector: `batch.kubernetes.io/job-name=${job}` },
        });
        return list.items;
      } catch (err) {
        throw apiError(`list Pods of Job ${namespace}/${job}`, err);
      }
    },
    async publishResult(namespace, name, uid, result) {
      try {
        // The uid makes a patch of a re-created Job of the same name fail instead of mislabel it.
        await client.request({
          method: 'PATCH',
          path: jobs(namespace, name),
          contentType: 'application/merge-patch+json',
          accept: metadataAccept(),
          body: { metadata: { uid, annotations: { [Annotations.result]: JSON.stringify(result) } } },
        });
      } catch (err) {
        if (isNotFound(err)) return;
        throw apiError(`annotate Job ${namespace}/${name}`, err);
      }
    },
    deleteJob: (namespace, name) =>
      writer.delete({ apiVersion: 'batch/v1', kind: 'Job', metadata: { namespace, name } }, 'Background'),
    applyStatus: (meta, status) => writer.applyStatus(WORKFLOW.kind, WORKFLOW.plural, meta, status),
  };
}
