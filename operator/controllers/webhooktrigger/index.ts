import { isDeepStrictEqual } from 'node:util';
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import {
  ConditionType,
  type WebhookTrigger as TriggerObject,
  WEBHOOK_TRIGGER,
  type Workflow as WorkflowObject,
} from '../../../api/v1alpha1/index.ts';
import type { Config } from '../../config.ts';
import { ownChanged } from '../../runtime/predicates.ts';
import type { Cache, ControllerManager, ObjectKey } from '../../runtime/types.ts';
import { findCondition } from '../conditions.ts';
import { eventRecorder } from '../events.ts';
import {
  type Cached,
  captureSecrets,
  credentialSecrets,
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

/** Every Secret a trigger references, read from the cached object as is (it may not parse). */
function secretRefNames(t: WebhookTrigger): (string | undefined)[] {
  const auth = t.spec?.auth;
  return [
    auth?.bearer?.secretRef?.name,
    auth?.signature?.secretRef?.name,
    auth?.basic?.secretRef?.name,
    auth?.urlToken?.secretRef?.name,
    auth?.bodySecret?.secretRef?.name,
    ...(t.spec?.handshakes ?? []).map((h) => h.verifyToken?.secretRef?.name),
  ];
}

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
    if (secretRefNames(t).includes(name)) keys.add(t.metadata.name!);
  }
  return [...keys].map((n) => ({ namespace, name: n }));
}

const readiness = (wf: Workflow) =>
  [ConditionType.Ready, ConditionType.Stalled].map((type) => {
    const c = findCondition(wf.status?.conditions, type);
    return c && [c.status, c.reason, c.message];
  });

/**
 * What a trigger reads of its Workflow: spec (generation) and whether it is Ready (and why not).
 * Not its run history: a Workflow's status changes with every run, and each change would enqueue
 * every trigger bound to it.
 */
export const workflowChanged = (a: KubernetesObject, b: KubernetesObject): boolean =>
  a.metadata?.uid !== b.metadata?.uid ||
  a.metadata?.generation !== b.metadata?.generation ||
  !isDeepStrictEqual(readiness(a as Workflow), readiness(b as Workflow));

export function register(mgr: ControllerManager, config: Config): void {
  const routesResource = routeSecrets(config.ingressNamespace);
  const triggers = mgr.cache<WebhookTrigger>(TRIGGERS);
  const workflows = mgr.cache<Workflow>(WORKFLOWS);
  const getSecret = secretGetter(mgr.client);
  const credentialsResource = credentialSecrets((key) => triggers.get(key)?.metadata.uid);
  const secrets = {
    credentials: mgr.cache<V1Secret>(credentialsResource),
    identities: mgr.cache<KubernetesObject>(SECRET_METADATA),
    values: new ReferencedSecrets(getSecret),
    get: getSecret,
  };
  const routes = mgr.cache<V1Secret>(routesResource);
  const capturesResource = captureSecrets(config.ingressNamespace);
  const captures = mgr.cache<V1Secret>(capturesResource);
  const log = mgr.log.child({ controller: 'webhooktrigger' });
  const watched = (ns: string) => config.namespaces.length === 0 || config.namespaces.includes(ns);
  mgr.add({
    for: TRIGGERS,
    changed: ownChanged,
    watches: [
      {
        resource: WORKFLOWS,
        changed: workflowChanged,
        map: (wf) =>
          triggers
            .list(wf.metadata?.namespace)
            .filter((t) => t.spec?.workflowRef?.name === wf.metadata?.name)
            .map((t) => ({ namespace: t.metadata.namespace!, name: t.metadata.name! })),
      },
      // Every Secret's identity (a referenced Secret's change, a name clash) and the credentials cache
      // (so a reconcile after its event reads the new data).
      { resource: SECRET_METADATA, map: (s) => triggersForSecret(triggers, s) },
      { resource: credentialsResource, map: (s) => triggersForSecret(triggers, s) },
      // Route Secrets of triggers in other operators' namespaces are not ours to sweep.
      { resource: routesResource, map: (s) => routeOwner(s).filter((k) => watched(k.namespace)) },
      // Secrets the ingress captured from handshakes: the trigger takes them in (or drops them).
      { resource: capturesResource, map: (s) => routeOwner(s).filter((k) => watched(k.namespace)) },
    ],
    reconciler: new WebhookTriggerReconciler({
      triggers,
      workflows,
      secrets,
      routes,
      captures,
      api: triggerApi(mgr.client),
      events: eventRecorder(mgr.client, log),
      conditions: mgr.conditions,
      log,
      config,
      generate: cryptoGenerators,
    }),
    // A reconcile is three API writes in a row and mostly waits on the API server, which serves
    // requests in flight about evenly: to keep up with N clients applying triggers (one write each),
    // the operator needs well over 3N in flight (docs/design.md "Scale").
    workers: config.triggerWorkers,
  });
}
