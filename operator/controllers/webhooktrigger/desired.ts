// Pure: observed objects in, desired objects out. No I/O, no clock (callers pass `now`), no
// randomness (callers pass the generators).
import { createHash } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import {
  API_VERSION,
  CredentialKeys,
  type IdentityVerifier,
  Labels,
  MANAGED_BY,
  ROUTE_KEY,
  type Route,
  RouteSchema,
  resolveAuth,
  routePath,
  type SecretFormat,
  WEBHOOK_TRIGGER,
  type WebhookTriggerSpec,
  type WebhookTriggerStatus,
  type WorkflowSpec,
} from '../../../api/v1alpha1/index.ts';
import { timestamp } from '../conditions.ts';

/** On the credentials Secret: the last `hookgate.io/rotate` value handled, and when. */
export const ROTATED_FOR = 'hookgate.io/rotated-for';
export const ROTATED_AT = 'hookgate.io/rotated-at';

export const credentialsSecretName = (trigger: string) => `${trigger}-credentials`;

export const routeSecretName = (namespace: string, name: string) =>
  `hookgate-route-${createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, 16)}`;

export const triggerURL = (publicBaseURL: string, namespace: string, name: string) =>
  publicBaseURL.replace(/\/+$/, '') + routePath(namespace, name);

export interface Generators {
  token(): string;
  /** In `format` (whsec_ + base64 by default; url-safe: only `A-Za-z0-9_-`, for Telegram). */
  signingSecret(format?: SecretFormat): string;
}

/** Which credentials the operator generates: those the trigger needs without a `secretRef`. */
export interface Parts {
  token: boolean;
  signingSecret: boolean;
  secretFormat?: SecretFormat;
}

export function generatedParts(spec: WebhookTriggerSpec): Parts {
  const needs = resolveAuth(spec.auth);
  return {
    token: needs.bearer && !spec.auth.bearer?.secretRef,
    signingSecret: !!needs.verifier && !spec.auth.signature?.secretRef,
    ...(needs.secretFormat ? { secretFormat: needs.secretFormat } : {}),
  };
}

export interface StoredCredentials {
  /** Decoded `data` of the credentials Secret. */
  data: Record<string, string>;
  /** Only the annotations this operator manages (ROTATED_FOR, ROTATED_AT). */
  annotations: Record<string, string>;
}

export interface CredentialsPlan extends StoredCredentials {
  /** The Secret must be created (none exists) or updated. */
  write: 'create' | 'update' | 'none';
  /** For Events; never a secret value. */
  generated: (keyof Parts)[];
  rotated: boolean;
  expired: boolean;
  /** Milliseconds until the previous credentials expire. */
  requeueAfter?: number;
}

const PREVIOUS = {
  token: CredentialKeys.previousToken,
  signingSecret: CredentialKeys.previousSigningSecret,
} as const;
const PART_KEYS = ['token', 'signingSecret'] as const;

/**
 * The credentials Secret's next content. A value is generated only where its key is absent, or on
 * a rotation request not handled before: nothing else (restart, re-apply, unrelated edits) can
 * replace a credential.
 */
export function planCredentials(input: {
  parts: Parts;
  existing: StoredCredentials | undefined;
  /** The trigger's `hookgate.io/rotate` annotation. */
  rotate: string | undefined;
  graceMs: number;
  now: Date;
  generate: Generators;
}): CredentialsPlan | undefined {
  const { parts, existing, rotate, now, generate } = input;
  const fresh = (p: (typeof PART_KEYS)[number]) =>
    p === 'token' ? generate.token() : generate.signingSecret(parts.secretFormat);
  if (!existing && !parts.token && !parts.signingSecret) return undefined;
  const data = { ...existing?.data };
  const annotations = { ...existing?.annotations };
  const plan: CredentialsPlan = {
    data,
    annotations,
    write: 'none',
    generated: [],
    rotated: false,
    expired: false,
  };

  const until = data[CredentialKeys.previousValidUntil];
  if (until !== undefined) {
    const left = Date.parse(until) - now.getTime();
    if (left > 0) plan.requeueAfter = left;
    else {
      // An unparseable time counts as expired: the old credentials must not live forever.
      delete data[CredentialKeys.previousToken];
      delete data[CredentialKeys.previousSigningSecret];
      delete data[CredentialKeys.previousValidUntil];
      plan.expired = true;
    }
  }

  if (rotate && rotate !== annotations[ROTATED_FOR]) {
    const rotating = PART_KEYS.filter((p) => parts[p] && data[p]);
    if (existing && rotating.length > 0) {
      for (const p of rotating) {
        data[PREVIOUS[p]] = data[p]!;
        data[p] = fresh(p);
      }
      data[CredentialKeys.previousValidUntil] = timestamp(new Date(now.getTime() + input.graceMs));
      plan.requeueAfter = input.graceMs;
      annotations[ROTATED_AT] = timestamp(now);
      plan.rotated = true;
    }
    // Recorded even when there was nothing to rotate: a fresh Secret already honours the request.
    annotations[ROTATED_FOR] = rotate;
  }

  for (const p of PART_KEYS) {
    if (parts[p] && !data[p]) {
      data[p] = fresh(p);
      plan.generated.push(p);
    }
  }

  if (!existing) plan.write = 'create';
  else if (!sameRecord(data, existing.data) || !sameRecord(annotations, existing.annotations))
    plan.write = 'update';
  return plan;
}

const sameRecord = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

export interface Owner {
  namespace: string;
  name: string;
  uid: string;
}

/** The generated credentials Secret, owned (controller reference) by its trigger. */
export function credentialsSecret(
  owner: Owner,
  creds: StoredCredentials,
  resourceVersion?: string,
): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: credentialsSecretName(owner.name),
      namespace: owner.namespace,
      // Set on updates: the write fails instead of rotating twice from a stale cache.
      ...(resourceVersion ? { resourceVersion } : {}),
      labels: { [Labels.managedBy]: MANAGED_BY, [Labels.trigger]: owner.name },
      annotations: creds.annotations,
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: WEBHOOK_TRIGGER.kind,
          name: owner.name,
          uid: owner.uid,
          controller: true,
          // No blockOwnerDeletion: it needs update on webhooktriggers/finalizers where the
          // OwnerReferencesPermissionEnforcement admission plugin runs; GC works without it.
        },
      ],
    },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(creds.data).map(([k, v]) => [k, b64(v)])),
  };
}

/** The values a route serves. `previous*` only during a rotation's grace period. */
export interface ResolvedCredentials {
  token?: string;
  signingSecret?: string;
  previousToken?: string;
  previousSigningSecret?: string;
  previousValidUntil?: string;
}

/** Current values from referenced Secrets win over generated ones; previous ones exist only for generated parts. */
export function resolveCredentials(
  parts: Parts,
  stored: Record<string, string> | undefined,
  referenced: { token?: string; signingSecret?: string },
): ResolvedCredentials {
  const r: ResolvedCredentials = {};
  for (const p of PART_KEYS) {
    const current = parts[p] ? stored?.[p] : referenced[p];
    if (current) r[p] = current;
    const previous = parts[p] ? stored?.[PREVIOUS[p]] : undefined;
    if (previous) {
      r[p === 'token' ? 'previousToken' : 'previousSigningSecret'] = previous;
      r.previousValidUntil = stored?.[CredentialKeys.previousValidUntil];
    }
  }
  return r;
}

export interface RouteInput {
  trigger: { namespace: string; name: string; uid: string; generation: number; spec: WebhookTriggerSpec };
  workflow: { name: string; uid: string; spec: WorkflowSpec };
  credentials: ResolvedCredentials;
  /** status.url: what providers that sign their URL signed. */
  url?: string;
  /** Senders that share no secret (lib/identity.ts). */
  identity?: IdentityVerifier;
}

/** What every route of a trigger carries, served or not. */
const routeOf = ({ namespace, name, uid, generation, spec }: RouteInput['trigger']) => ({
  namespace,
  name,
  uid,
  generation,
  path: routePath(namespace, name),
  suspended: spec.suspend,
  rateLimit: spec.rateLimit,
  maxBodyBytes: spec.maxBodyBytes,
  input: spec.input,
  filter: spec.filter,
  idempotency: spec.idempotency,
  response: spec.response,
});

/** What a route of the version before states of a scheme (it resolves them itself). */
const LEGACY_KNOBS = [
  'scheme',
  'header',
  'prefix',
  'encoding',
  'timestampUnit',
  'toleranceSeconds',
  'replayWindowSeconds',
] as const;
const pick = <T extends object, K extends keyof T>(o: T, keys: readonly K[]) =>
  Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Pick<T, K>;

/**
 * The route the ingress serves for a Ready trigger, validated against the schema the ingress reads:
 * the trigger's provider or scheme resolved into one verifier. A scheme and its knobs are written
 * too, so an ingress of the version before still serves the seven schemes during an upgrade.
 */
export function desiredRoute({ trigger, workflow, credentials: c, url, identity }: RouteInput): Route {
  const { spec } = trigger;
  const list = (current: string | undefined, previous: string | undefined) => [
    ...(current ? [{ value: current }] : []),
    ...(previous && c.previousValidUntil ? [{ value: previous, validUntil: c.previousValidUntil }] : []),
  ];
  const auth = resolveAuth(spec.auth);
  const sig = spec.auth.signature;
  const knobs = sig?.scheme && sig.scheme !== 'hmac' ? pick(sig, LEGACY_KNOBS) : {};
  const secrets = list(c.signingSecret, c.previousSigningSecret);
  // The route schema allows none (a secret awaited from a handshake); nothing else may lack one.
  if (auth.verifier && secrets.length === 0) throw new Error('a signature without a signing secret');
  return RouteSchema.parse({
    ...routeOf(trigger),
    auth: {
      ...(auth.bearer ? { tokens: list(c.token, c.previousToken) } : {}),
      ...(auth.verifier
        ? {
            signature: {
              ...knobs,
              verifier: auth.verifier,
              secrets,
            },
          }
        : {}),
      ...(identity ? { identity } : {}),
    },
    ...(auth.provider ? { provider: auth.provider } : {}),
    ...(url ? { url } : {}),
    workflow: { name: workflow.name, uid: workflow.uid, spec: workflow.spec },
  });
}

/** Why a trigger that exists cannot start runs, as the world may read it (no names of Secrets, no API text). */
export function unavailableMessage(reason: string, workflowReason?: string): string {
  switch (reason) {
    case 'WorkflowNotFound':
      return "the trigger's workflow does not exist; its owner must create it";
    case 'WorkflowNotReady':
      return `the trigger's workflow cannot start runs${workflowReason ? ` (${workflowReason})` : ''}; its owner must fix it`;
    default:
      return `the trigger cannot start runs (${reason}); its owner must fix it`;
  }
}

/**
 * The route of a trigger that exists but cannot start runs: the ingress answers 503 with the
 * message before reading anything. It carries no credentials and a placeholder workflow (there may
 * be none), which the ingress never reaches.
 */
export function unavailableRoute(
  trigger: RouteInput['trigger'],
  unavailable: { reason: string; message: string },
): Route {
  return RouteSchema.parse({
    ...routeOf(trigger),
    unavailable,
    auth: {},
    workflow: {
      name: trigger.spec.workflowRef.name,
      uid: '',
      spec: { jobTemplate: { spec: { template: {} } } },
    },
  });
}

/**
 * The route Secret in the ingress namespace. No owner reference: owners cannot cross namespaces,
 * so the reconciler deletes it itself.
 */
export function routeSecret(route: Route, ingressNamespace: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: routeSecretName(route.namespace, route.name),
      namespace: ingressNamespace,
      labels: {
        [Labels.managedBy]: MANAGED_BY,
        [Labels.route]: 'true',
        [Labels.trigger]: route.name,
        [Labels.triggerNamespace]: route.namespace,
      },
    },
    type: 'Opaque',
    data: { [ROUTE_KEY]: b64(JSON.stringify(route)) },
  };
}

const routeDigest = (data: string) => createHash('sha256').update(data).digest('base64');

/**
 * A route Secret as the operator caches it: the digest of its route in place of the route (a few
 * KiB each, 10,000 of them), which is all `sameRoute` needs.
 */
export function routeSecretView(secret: V1Secret): V1Secret {
  const data = secret.data?.[ROUTE_KEY];
  return { ...secret, data: data === undefined ? {} : { [ROUTE_KEY]: routeDigest(data) } };
}

/** Whether the cached route Secret (`routeSecretView`) already holds `desired`. */
export function sameRoute(cached: V1Secret | undefined, desired: V1Secret): boolean {
  const data = desired.data?.[ROUTE_KEY];
  return (
    !!cached &&
    data !== undefined &&
    cached.data?.[ROUTE_KEY] === routeDigest(data) &&
    Object.entries(desired.metadata?.labels ?? {}).every(([k, v]) => cached.metadata?.labels?.[k] === v)
  );
}

/** The credential fields of the trigger's status (never a secret: the token prefix is 4 random characters). */
export function credentialStatus(
  trigger: string,
  parts: Parts,
  stored: StoredCredentials | undefined,
  resolved: ResolvedCredentials,
  spec: WebhookTriggerSpec,
): Pick<
  WebhookTriggerStatus,
  | 'credentialsSecret'
  | 'tokenPrefix'
  | 'signingSecretSet'
  | 'lastRotationTime'
  | 'previousCredentialsValidUntil'
> {
  return {
    ...(stored ? { credentialsSecret: credentialsSecretName(trigger) } : {}),
    ...(parts.token && resolved.token ? { tokenPrefix: resolved.token.slice(0, 8) } : {}),
    signingSecretSet: !!resolveAuth(spec.auth).verifier && !!resolved.signingSecret,
    ...(stored?.annotations[ROTATED_AT] ? { lastRotationTime: stored.annotations[ROTATED_AT] } : {}),
    ...(resolved.previousValidUntil ? { previousCredentialsValidUntil: resolved.previousValidUntil } : {}),
  };
}
