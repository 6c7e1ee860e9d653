import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import {
  ConditionType,
  type WebhookTrigger as TriggerObject,
  WEBHOOK_TRIGGER,
  type Workflow as WorkflowObject,
} from '../../api/v1alpha1/index.ts';
import type { Config } from '../../config.ts';
import type { Cache, ControllerManager, ObjectKey } from '../../runtime/types.ts';
import { findCondition } from '../conditions.ts';
import { eventRecorder } from '../events.ts';
import {
  type Cached,
  CREDENTIAL_SECRETS,
  routeSecrets,
  SECRET_METADATA,
  TRIGGERS,
  WORKFLOWS,
} from '../resources.ts';
import { triggerApi } from './apply.ts';
import { cryptoGenerators } from './generate.ts';
import { routeOwner, WebhookTriggerReconciler } from './reconcile.ts';
import { ReferencedSecrets, secretGetter } from './referenced.ts';

type WebhookTrigger = Cached<TriggerObject>;
type Workflow = Cached<WorkflowObject>;

const CREDENTIALS_SUFFIX = '-credentials';

/** Triggers to reconcile when a Secret of their namespace changes: owner, name clash, or secretRef. */
export function triggersForSecret(triggers: Cache<WebhookTrigger>, secret: KubernetesObject): ObjectKey[] {
  const namespace = secret.metadata?.namespace ?? '';
  const name = secret.metadata?.name ?? '';
  const keys = new Set<string>();
  const owner = secret.metadata?.ownerReferences?.find(
    (r) => r.controller && r.kind === WEBHOOK_TRIGGER.kind,
  );
  if (owner) keys.add(owner.name);
  // Also an unowned Secret under a trigger's credentials name: its removal unblocks that trigger.
  if (name.endsWith(CREDENTIALS_SUFFIX)) {
    const trigger = name.slice(0, -CREDENTIALS_SUFFIX.length);
    if (triggers.get({ namespace, name: trigger })) keys.add(trigger);
  }
  for (const t of triggers.list(namespace)) {
    const auth = t.spec?.auth;
    if (auth?.bearer?.secretRef?.name === name || auth?.signature?.secretRef?.name === name)
      keys.add(t.metadata.name!);
  }
  return [...keys].map((n) => ({ namespace, name: n }));
}

/** What a trigger reads of its Workflow (`readyWorkflow`): identity, spec, Ready and Stalled. */
const workflowAsSeenByTriggers = (wf: KubernetesObject) => {
  const { metadata, status } = wf as Workflow;
  const conditions = status?.conditions;
  const ready = findCondition(conditions, ConditionType.Ready);
  return JSON.stringify([
    metadata.uid,
    metadata.generation,
    ready?.status,
    ready?.reason,
    ready?.message,
    findCondition(conditions, ConditionType.Stalled)?.status,
  ]);
};

/**
 * Whether a Workflow update matters to its triggers. Most updates are its status taking in the
 * runs that finished (recentRuns, active), each of which would otherwise reconcile every trigger of
 * the Workflow: 1,000 per status write at 10,000 triggers (bench-scale).
 */
export const workflowChangedForTriggers = (a: KubernetesObject, b: KubernetesObject) =>
  workflowAsSeenByTriggers(a) !== workflowAsSeenByTriggers(b);

export function register(mgr: ControllerManager, config: Config): void {
  const routesResource = routeSecrets(config.ingressNamespace);
  const triggers = mgr.cache<WebhookTrigger>(TRIGGERS);
  const workflows = mgr.cache<Workflow>(WORKFLOWS);
  const getSecret = secretGetter(mgr.client);
  const secrets = {
    credentials: mgr.cache<V1Secret>(CREDENTIAL_SECRETS),
    identities: mgr.cache<KubernetesObject>(SECRET_METADATA),
    values: new ReferencedSecrets(getSecret),
    get: getSecret,
  };
  const routes = mgr.cache<V1Secret>(routesResource);
  const log = mgr.log.child({ controller: 'webhooktrigger' });
  const watched = (ns: string) => config.namespaces.length === 0 || config.namespaces.includes(ns);
  mgr.add({
    for: TRIGGERS,
    watches: [
      {
        resource: WORKFLOWS,
        map: (wf) =>
          triggers
            .list(wf.metadata?.namespace)
            .filter((t) => t.spec?.workflowRef?.name === wf.metadata?.name)
            .map((t) => ({ namespace: t.metadata.namespace!, name: t.metadata.name! })),
        changed: workflowChangedForTriggers,
      },
      // Every Secret's identity (a referenced Secret's change, a name clash) and the credentials cache
      // (so a reconcile after its event reads the new data).
      { resource: SECRET_METADATA, map: (s) => triggersForSecret(triggers, s) },
      { resource: CREDENTIAL_SECRETS, map: (s) => triggersForSecret(triggers, s) },
      // Route Secrets of triggers in other operators' namespaces are not ours to sweep.
      { resource: routesResource, map: (s) => routeOwner(s).filter((k) => watched(k.namespace)) },
    ],
    reconciler: new WebhookTriggerReconciler({
      triggers,
      workflows,
      secrets,
      routes,
      api: triggerApi(mgr.client),
      events: eventRecorder(mgr.client, log),
      conditions: mgr.conditions,
      log,
      config,
      generate: cryptoGenerators,
    }),
    // A reconcile mostly waits on the API server (bench-scale, 1,000 triggers: the operator 71% idle
    // with 2 workers while applies queued up); 8 keeps up with a burst of applies.
    workers: 8,
  });
}
