// The baseline of `make bench-scale`: a plain client that makes the writes a trigger needs (its
// credentials Secret when something is generated, a route Secret, its status), built from the API's
// types alone, as anyone could write them without hookgate's controllers.
import { randomBytes } from 'node:crypto';
import {
  API_VERSION,
  Labels,
  MANAGED_BY,
  ROUTE_KEY,
  RouteSchema,
  routePath,
  WEBHOOK_TRIGGER,
  type WebhookTriggerSpec,
  type WorkflowSpec,
} from '../api/v1alpha1/index.ts';
import { APPLY_PATCH, apiPath, type KubeClient, metadataAccept, SECRETS, statusPath } from '../lib/kube.ts';

const FIELD_MANAGER = 'bench-direct';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

export interface DirectTrigger {
  namespace: string;
  name: string;
  uid: string;
  spec: WebhookTriggerSpec;
  /** The values of a referenced Secret, for triggers with a `secretRef`. */
  referenced: { token?: string; signingSecret?: string };
  workflow: { name: string; uid: string; spec: WorkflowSpec };
}

/** Generated the way the operator does: only for a part without a `secretRef`. */
function credentials(t: DirectTrigger) {
  const { bearer, signature } = t.spec.auth;
  const generated: Record<string, string> = {};
  if (bearer && !bearer.secretRef) generated.token = `hgt_${randomBytes(32).toString('base64url')}`;
  if (signature && !signature.secretRef)
    generated.signingSecret = `whsec_${randomBytes(32).toString('base64')}`;
  return { generated, values: { ...t.referenced, ...generated } };
}

function credentialsSecret(t: DirectTrigger, data: Record<string, string>) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: `${t.name}-credentials`,
      namespace: t.namespace,
      labels: { [Labels.managedBy]: MANAGED_BY, [Labels.trigger]: t.name },
      ownerReferences: [
        { apiVersion: API_VERSION, kind: WEBHOOK_TRIGGER.kind, name: t.name, uid: t.uid, controller: true },
      ],
    },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  };
}

function routeSecret(
  t: DirectTrigger,
  values: { token?: string; signingSecret?: string },
  namespace: string,
) {
  const { spec } = t;
  const sig = spec.auth.signature;
  const route = RouteSchema.parse({
    ...{
      namespace: t.namespace,
      name: t.name,
      uid: t.uid,
      generation: 1,
      path: routePath(t.namespace, t.name),
    },
    suspended: spec.suspend,
    ...{ rateLimit: spec.rateLimit, maxBodyBytes: spec.maxBodyBytes, input: spec.input },
    ...{ filter: spec.filter, idempotency: spec.idempotency, response: spec.response },
    auth: {
      ...(spec.auth.bearer ? { tokens: [{ value: values.token }] } : {}),
      ...(sig
        ? { signature: { ...sig, secretRef: undefined, secrets: [{ value: values.signingSecret }] } }
        : {}),
    },
    workflow: t.workflow,
  });
  const labels = { [Labels.managedBy]: MANAGED_BY, [Labels.route]: 'true' };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `route-${t.namespace}-${t.name}`, namespace, labels },
    type: 'Opaque',
    data: { [ROUTE_KEY]: b64(JSON.stringify(route)) },
  };
}

function status(t: DirectTrigger, url: string, generated: Record<string, string>, now: string) {
  const condition = (type: string, on: boolean) => ({
    type,
    status: on ? 'True' : 'False',
    reason: 'Succeeded',
    message: on ? `Serving ${url}` : '',
    lastTransitionTime: now,
    observedGeneration: 1,
  });
  return {
    observedGeneration: 1,
    conditions: [condition('Ready', true), condition('Reconciling', false), condition('Stalled', false)],
    url,
    path: routePath(t.namespace, t.name),
    ...(Object.keys(generated).length ? { credentialsSecret: `${t.name}-credentials` } : {}),
    ...(generated.token ? { tokenPrefix: generated.token.slice(0, 8) } : {}),
    signingSecretSet: !!t.spec.auth.signature,
  };
}

/**
 * Writes what trigger `t` needs, each as one call, the way the operator writes it: the credentials
 * Secret created, the route Secret (into `routesNamespace`) and the status applied server-side.
 */
export async function writeDirect(
  client: KubeClient,
  t: DirectTrigger,
  url: string,
  routesNamespace: string,
) {
  const { generated, values } = credentials(t);
  const apply = { fieldManager: FIELD_MANAGER, force: 'true' };
  if (Object.keys(generated).length)
    await client.request({
      method: 'POST',
      path: apiPath({ ...SECRETS, namespace: t.namespace }),
      query: { fieldManager: FIELD_MANAGER },
      accept: metadataAccept(),
      body: credentialsSecret(t, generated),
    });
  const route = routeSecret(t, values, routesNamespace);
  await client.request({
    method: 'PATCH',
    path: apiPath({ ...SECRETS, namespace: routesNamespace, name: route.metadata.name }),
    query: apply,
    contentType: APPLY_PATCH,
    accept: metadataAccept(),
    body: route,
  });
  const { namespace, name, uid } = t;
  await client.request({
    method: 'PATCH',
    path: statusPath(WEBHOOK_TRIGGER.plural, namespace, name),
    query: apply,
    contentType: APPLY_PATCH,
    accept: metadataAccept(),
    body: {
      apiVersion: API_VERSION,
      kind: WEBHOOK_TRIGGER.kind,
      metadata: { namespace, name, uid },
      status: status(t, url, generated, new Date().toISOString().replace(/\.\d+Z$/, 'Z')),
    },
  });
}
