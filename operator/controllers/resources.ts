import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import { runView, withoutLastApplied } from '../../lib/cache-views.ts';
import { GROUP, Labels, VERSION, WEBHOOK_TRIGGER, WORKFLOW } from '../api/v1alpha1/index.ts';
import type { Resource } from '../runtime/types.ts';
import { routeSecretView } from './webhooktrigger/desired.ts';

// One declaration per watched resource: the runtime shares an informer between equal declarations.
export const TRIGGERS: Resource = {
  group: GROUP,
  version: VERSION,
  plural: WEBHOOK_TRIGGER.plural,
  kind: WEBHOOK_TRIGGER.kind,
  transform: withoutLastApplied,
};
export const WORKFLOWS: Resource = {
  group: GROUP,
  version: VERSION,
  plural: WORKFLOW.plural,
  kind: WORKFLOW.kind,
  transform: withoutLastApplied,
};
/** Every Secret of the watched namespaces: referenced Secrets carry no label of ours. */
export const SECRETS: Resource = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' };
/** Runs: the ingress's Jobs (and any Job naming a Workflow). */
export const JOBS: Resource = {
  group: 'batch',
  version: 'v1',
  plural: 'jobs',
  kind: 'Job',
  labelSelector: Labels.workflow,
  // Identity, owner and outcome: the spec is most of a Job and nothing here reads it.
  transform: runView,
};

export const routeSecrets = (ingressNamespace: string): Resource => ({
  ...SECRETS,
  labelSelector: `${Labels.route}=true`,
  namespaces: [ingressNamespace],
  transform: routeSecretView,
});

/**
 * An API object as the runtime caches it, typed for `Cache<T>`: client-node's metadata type in
 * place of ours. The cache holds the API server's raw JSON, so timestamps typed `Date` by
 * client-node are strings at runtime: read them with `timeOf`.
 */
export type Cached<T extends { metadata: unknown }> = Omit<T, 'metadata'> &
  KubernetesObject & { metadata: V1ObjectMeta };
