import type { KubernetesObject, V1ObjectMeta, V1Secret } from '@kubernetes/client-node';
import {
  CredentialKeys,
  GROUP,
  Labels,
  MANAGED_BY,
  VERSION,
  WEBHOOK_TRIGGER,
  WORKFLOW,
} from '../../api/v1alpha1/index.ts';
import { controllerRef, runView, withCommonStrings, withoutLastApplied } from '../../lib/cache-views.ts';
import { JOBS, SECRETS } from '../../lib/kube.ts';
import type { ObjectKey, Resource } from '../runtime/types.ts';
import {
  CAPTURED_AT,
  credentialsSecretName,
  REVOKED_FOR,
  ROTATED_AT,
  ROTATED_FOR,
  routeSecretView,
} from './webhooktrigger/desired.ts';

// One declaration per watched resource: the runtime shares an informer between equal declarations.
/** One of our own kinds, kept without its last-applied annotation and with its common strings shared. */
const ownKind = ({ plural, kind }: { plural: string; kind: string }): Resource => ({
  group: GROUP,
  version: VERSION,
  plural,
  kind,
  transform: (o) => withCommonStrings(withoutLastApplied(o)),
});
export const TRIGGERS = ownKind(WEBHOOK_TRIGGER);
export const WORKFLOWS = ownKind(WORKFLOW);
const SECRET_RESOURCE: Resource = { ...SECRETS, kind: 'Secret' };

/**
 * What identifies a Secret and which trigger controls it, nothing else: labels and annotations of a
 * hostile Secret can be 256 KiB each, its data 1 MiB. A controller of another kind is read as none
 * (the clash check and the Secret watch's map look for a WebhookTrigger), so a run's input Secret
 * keeps no reference to its Job: a quarter of an identity, and there is one per run.
 */
export function secretIdentity(o: KubernetesObject): KubernetesObject {
  const { namespace, name, uid, resourceVersion } = o.metadata ?? {};
  const ref = controllerRef(o.metadata);
  const controller = ref?.kind === WEBHOOK_TRIGGER.kind ? ref : undefined;
  return {
    metadata: {
      namespace,
      name,
      uid,
      resourceVersion,
      ...(controller ? { ownerReferences: [controller] } : {}),
    },
  };
}

/**
 * Every Secret of the watched namespaces, metadata only and cut to `secretIdentity`: tells which
 * referenced Secrets exist and at which resourceVersion (their values are read on demand), and
 * which Secret blocks a trigger's credentials name.
 */
export const SECRET_METADATA: Resource = {
  ...SECRET_RESOURCE,
  metadataOnly: true,
  transform: secretIdentity,
};

const pickKeys = (o: Record<string, string> | undefined, keep: (k: string) => boolean) =>
  Object.fromEntries(Object.entries(o ?? {}).filter(([k]) => keep(k)));
const credentialKeys = new Set<string>(Object.values(CredentialKeys));
// Every annotation the operator writes on the Secret (desired.ts): one dropped here would be read as
// never written, and its request (a rotation, a revocation) handled again.
const credentialAnnotations = new Set([ROTATED_FOR, REVOKED_FOR, ROTATED_AT, CAPTURED_AT]);

/**
 * Generated credentials Secrets, with data. The selector matches those made by every version (the
 * two labels never changed) and leaves out run input Secrets (up to 1 MiB each, thousands of them),
 * which carry the same two labels plus a workflow and a delivery, and route Secrets. Anyone may put
 * these labels and any controller reference on a Secret, so data (the credential keys) and the
 * annotations the operator writes are kept only for `<trigger>-credentials` controlled by that
 * trigger as it lives now (`ownerUid`, the trigger cache): one per trigger. Any other is kept as its
 * identity. One that arrives before its trigger is known is kept so too, and read whole once by the
 * reconcile that needs it (`refresh` then keeps it with its data).
 */
export function credentialSecrets(ownerUid: (key: ObjectKey) => string | undefined): Resource {
  return {
    ...SECRET_RESOURCE,
    labelSelector: `${Labels.managedBy}=${MANAGED_BY},${Labels.trigger},!${Labels.delivery},!${Labels.workflow},!${Labels.route}`,
    transform: (o) => {
      const kept = secretIdentity(o);
      const controller = controllerRef(o.metadata);
      const namespace = o.metadata?.namespace ?? '';
      const owned =
        controller?.kind === WEBHOOK_TRIGGER.kind &&
        o.metadata?.name === credentialsSecretName(controller.name) &&
        controller.uid === ownerUid({ namespace, name: controller.name });
      if (!owned) return kept;
      kept.metadata!.annotations = pickKeys(o.metadata?.annotations, (k) => credentialAnnotations.has(k));
      return { ...kept, data: pickKeys((o as V1Secret).data, (k) => credentialKeys.has(k)) } as V1Secret;
    },
  };
}
/** Runs: the ingress's Jobs (and any Job naming a Workflow). */
export const RUN_JOBS: Resource = {
  ...JOBS,
  kind: 'Job',
  labelSelector: Labels.workflow,
  // Identity, owner and outcome: the spec is most of a Job and nothing here reads it.
  transform: runView,
};

/** Secrets the ingress captured from handshakes (lib/capture.ts), a few bytes each, in its namespace. */
export const captureSecrets = (ingressNamespace: string): Resource => ({
  ...SECRET_RESOURCE,
  labelSelector: `${Labels.capture}=true`,
  namespaces: [ingressNamespace],
});

export const routeSecrets = (ingressNamespace: string): Resource => ({
  ...SECRET_RESOURCE,
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
