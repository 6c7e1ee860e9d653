// Pure: observed objects in, desired objects out. No I/O, no clock (callers pass `now`), no
// randomness (callers pass the generators).
import { createHash } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import {
  API_VERSION,
  CredentialKeys,
  extraCredentials,
  type IdentityVerifier,
  Labels,
  MANAGED_BY,
  ROUTE_KEY,
  type Route,
  RouteSchema,
  resolveAuth,
  routePath,
  type SecretFormat,
  triggerLabels,
  WEBHOOK_TRIGGER,
  type WebhookTriggerSpec,
  type WebhookTriggerStatus,
  type WorkflowSpec,
} from '../../../api/v1alpha1/index.ts';
import { timestamp } from '../conditions.ts';

/** On the credentials Secret: the last `hookgate.io/rotate` and `hookgate.io/revoke` values handled, and when. */
export const ROTATED_FOR = 'hookgate.io/rotated-for';
export const REVOKED_FOR = 'hookgate.io/revoked-for';
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
  basic(): { username: string; password: string };
  urlToken(): string;
  bodySecret(): string;
  verifyToken(): string;
}

/**
 * Each credential the credentials Secret can hold: its keys (HTTP Basic has two), the keys its
 * previous value moves to on a rotation, and how a new one is made.
 */
const PART_TABLE = {
  token: { keys: ['token'], previous: ['previousToken'] },
  signingSecret: { keys: ['signingSecret'], previous: ['previousSigningSecret'] },
  basic: { keys: ['username', 'password'], previous: ['previousUsername', 'previousPassword'] },
  urlToken: { keys: ['urlToken'], previous: ['previousUrlToken'] },
  bodySecret: { keys: ['bodySecret'], previous: ['previousBodySecret'] },
  verifyToken: { keys: ['verifyToken'], previous: ['previousVerifyToken'] },
} as const satisfies Record<
  string,
  { keys: readonly (keyof typeof CredentialKeys)[]; previous: readonly string[] }
>;
export type PartName = keyof typeof PART_TABLE;
const PART_NAMES = Object.keys(PART_TABLE) as PartName[];

const make = (p: PartName, g: Generators, parts: Parts): Record<string, string> => {
  switch (p) {
    case 'basic':
      return g.basic();
    case 'signingSecret':
      return { signingSecret: g.signingSecret(parts.secretFormat) };
    default:
      return { [p]: g[p]() };
  }
};

/** A part's value as the route serves it (`<username>:<password>` for Basic), if all its keys are set. */
const partValue = (data: Record<string, string | undefined>, keys: readonly string[]) =>
  keys.every((k) => data[k]) ? keys.map((k) => data[k]).join(':') : undefined;

/**
 * Which credentials the operator generates: those the trigger needs without a `secretRef`. The
 * signing secret of a trigger that captures it from a handshake is not generated but awaited
 * (`capture`). Parts beyond the first two appear only when needed.
 */
export interface Parts {
  token: boolean;
  signingSecret: boolean;
  basic?: boolean;
  urlToken?: boolean;
  bodySecret?: boolean;
  verifyToken?: boolean;
  secretFormat?: SecretFormat;
  capture?: boolean;
}

export function generatedParts(spec: WebhookTriggerSpec): Parts {
  const needs = resolveAuth(spec.auth);
  const extra = extraCredentials(spec);
  const meta = extra.handshakes.find((h) => h.name === 'meta-verify-token');
  const flags = {
    basic: !!extra.basic && !extra.basic.secretRef,
    urlToken: !!extra.urlToken && !extra.urlToken.secretRef,
    bodySecret: !!extra.bodySecret && !extra.bodySecret.secretRef,
    verifyToken: !!meta && !meta.verifyToken?.secretRef,
    capture: extra.captureSecret,
  };
  return {
    token: needs.bearer && !spec.auth.bearer?.secretRef,
    signingSecret: !!needs.verifier && !spec.auth.signature?.secretRef && !extra.captureSecret,
    ...(needs.secretFormat ? { secretFormat: needs.secretFormat } : {}),
    ...Object.fromEntries(Object.entries(flags).filter(([, on]) => on)),
  };
}

export interface StoredCredentials {
  /** Decoded `data` of the credentials Secret. */
  data: Record<string, string>;
  /** Only the annotations this operator manages (ROTATED_FOR, REVOKED_FOR, ROTATED_AT, CAPTURED_AT). */
  annotations: Record<string, string>;
}

export interface CredentialsPlan extends StoredCredentials {
  /** The Secret must be created (none exists) or updated. */
  write: 'create' | 'update' | 'none';
  /** For Events; never a secret value. */
  generated: PartName[];
  rotated: boolean;
  /** Rotated without a grace period: the previous credentials are gone. */
  revoked: boolean;
  expired: boolean;
  /** A captured secret became the signing secret. */
  captured: boolean;
  /** Milliseconds until the previous credentials expire. */
  requeueAfter?: number;
}

/** On the credentials Secret: when the signing secret was captured from a handshake. */
export const CAPTURED_AT = 'hookgate.io/captured-at';

/** Parts a rotation renews: generated ones, and a captured signing secret (then awaited anew). */
const rotates = (p: PartName, parts: Parts) => !!parts[p] || (p === 'signingSecret' && !!parts.capture);

/**
 * The credentials Secret's next content. A value is generated only where its key is absent, or on
 * a rotation request not handled before: nothing else (restart, re-apply, unrelated edits) can
 * replace a credential. A captured signing secret is taken in only while none is there.
 */
export function planCredentials(input: {
  parts: Parts;
  existing: StoredCredentials | undefined;
  /** The trigger's `hookgate.io/rotate` annotation. */
  rotate: string | undefined;
  /** The trigger's `hookgate.io/revoke` annotation. */
  revoke?: string;
  graceMs: number;
  now: Date;
  generate: Generators;
  /** A secret captured from the trigger's handshake, waiting to be taken in. */
  captured?: string;
}): CredentialsPlan | undefined {
  const { parts, existing, rotate, now, generate } = input;
  const needed = PART_NAMES.filter((p) => parts[p]);
  if (!existing && needed.length === 0 && !(parts.capture && input.captured)) return undefined;
  const data = { ...existing?.data };
  const annotations = { ...existing?.annotations };
  const plan: CredentialsPlan = {
    data,
    annotations,
    write: 'none',
    generated: [],
    rotated: false,
    revoked: false,
    expired: false,
    captured: false,
  };

  const until = data[CredentialKeys.previousValidUntil];
  if (until !== undefined) {
    const left = Date.parse(until) - now.getTime();
    if (left > 0) plan.requeueAfter = left;
    else {
      // An unparseable time counts as expired: the old credentials must not live forever.
      dropPrevious(data);
      plan.expired = true;
    }
  }

  const revoke = input.revoke && input.revoke !== annotations[REVOKED_FOR] ? input.revoke : undefined;
  if (revoke || (rotate && rotate !== annotations[ROTATED_FOR])) {
    const rotating = existing
      ? PART_NAMES.filter((p) => rotates(p, parts) && partValue(data, PART_TABLE[p].keys))
      : [];
    for (const p of rotating) {
      const { keys, previous } = PART_TABLE[p];
      keys.forEach((k, i) => {
        if (!revoke) data[previous[i]!] = data[k]!;
        // Emptied, not deleted: a key the Secret was created with is the create's to own, and
        // server-side apply never removes what another manager owns.
        data[k] = '';
      });
      // A captured secret is not made here: the next handshake brings it.
      if (parts[p]) Object.assign(data, make(p, generate, parts));
    }
    if (rotating.includes('signingSecret') && parts.capture) annotations[CAPTURED_AT] = '';
    if (revoke) {
      // The credentials of before (current and previous) are what leaked: none stays valid.
      const dropped = dropPrevious(data);
      plan.requeueAfter = undefined;
      plan.revoked = rotating.length > 0 || dropped;
    } else if (rotating.length > 0) {
      data[CredentialKeys.previousValidUntil] = timestamp(new Date(now.getTime() + input.graceMs));
      plan.requeueAfter = input.graceMs;
      plan.rotated = true;
    }
    if (rotating.length > 0) annotations[ROTATED_AT] = timestamp(now);
    // Recorded even when there was nothing to rotate: a fresh Secret already honours the request. A
    // revoke also answers a rotation asked for with it.
    if (rotate) annotations[ROTATED_FOR] = rotate;
    if (revoke) annotations[REVOKED_FOR] = revoke;
  }

  for (const p of needed) {
    if (!partValue(data, PART_TABLE[p].keys)) {
      Object.assign(data, make(p, generate, parts));
      plan.generated.push(p);
    }
  }
  if (parts.capture && !data.signingSecret && input.captured) {
    data.signingSecret = input.captured;
    annotations[CAPTURED_AT] = timestamp(now);
    plan.captured = true;
  }

  if (!existing) plan.write = 'create';
  else if (!sameRecord(data, existing.data) || !sameRecord(annotations, existing.annotations))
    plan.write = 'update';
  return plan;
}

/** Removes the previous credentials; true if there were any. */
function dropPrevious(data: Record<string, string>): boolean {
  const had = CredentialKeys.previousValidUntil in data;
  for (const p of PART_NAMES) for (const k of PART_TABLE[p].previous) delete data[k];
  delete data[CredentialKeys.previousValidUntil];
  return had;
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

/** The values a route serves (`basic` as `<username>:<password>`). `previous*` only during a rotation's grace period. */
export interface ResolvedCredentials {
  token?: string;
  signingSecret?: string;
  basic?: string;
  urlToken?: string;
  bodySecret?: string;
  verifyToken?: string;
  previousToken?: string;
  previousSigningSecret?: string;
  previousBasic?: string;
  previousUrlToken?: string;
  previousBodySecret?: string;
  previousVerifyToken?: string;
  previousValidUntil?: string;
}

const previousName = (p: PartName) =>
  `previous${p[0]!.toUpperCase()}${p.slice(1)}` as `previous${Capitalize<PartName>}`;

/** Current values from referenced Secrets win over stored ones; previous ones exist only for stored parts. */
export function resolveCredentials(
  parts: Parts,
  stored: Record<string, string> | undefined,
  referenced: Partial<Record<PartName, string>>,
): ResolvedCredentials {
  const r: ResolvedCredentials = {};
  for (const p of PART_NAMES) {
    const mine = rotates(p, parts);
    const current = mine ? partValue(stored ?? {}, PART_TABLE[p].keys) : referenced[p];
    if (current) r[p] = current;
    const previous = mine ? partValue(stored ?? {}, PART_TABLE[p].previous) : undefined;
    if (previous) {
      r[previousName(p)] = previous;
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
  /** A credential the trigger needs must have a value: a route that accepts nothing is a bug. */
  const required = (what: string, current: string | undefined, previous: string | undefined) => {
    const values = list(current, previous);
    if (values.length === 0) throw new Error(`a route without its ${what}`);
    return values;
  };
  const auth = resolveAuth(spec.auth);
  const extra = extraCredentials(spec);
  const sig = spec.auth.signature;
  const knobs = sig?.scheme && sig.scheme !== 'hmac' ? pick(sig, LEGACY_KNOBS) : {};
  // Empty only while a captured signing secret is awaited: then nothing verifies.
  const secrets = () =>
    extra.captureSecret
      ? list(c.signingSecret, c.previousSigningSecret)
      : required('signing secret', c.signingSecret, c.previousSigningSecret);
  return RouteSchema.parse({
    ...routeOf(trigger),
    auth: {
      ...(auth.bearer ? { tokens: list(c.token, c.previousToken) } : {}),
      ...(extra.basic ? { basic: required('Basic credential', c.basic, c.previousBasic) } : {}),
      ...(extra.urlToken ? { urlTokens: required('URL token', c.urlToken, c.previousUrlToken) } : {}),
      ...(extra.bodySecret
        ? {
            bodySecret: {
              field: extra.bodySecret.field,
              secrets: required('body secret', c.bodySecret, c.previousBodySecret),
            },
          }
        : {}),
      ...(auth.verifier ? { signature: { ...knobs, verifier: auth.verifier, secrets: secrets() } } : {}),
      ...(identity ? { identity } : {}),
    },
    ...(extra.handshakes.length > 0
      ? {
          handshakes: extra.handshakes.map((h) => ({
            name: h.name,
            ...(h.name === 'meta-verify-token'
              ? { verifyTokens: required('verify token', c.verifyToken, c.previousVerifyToken) }
              : {}),
            ...(h.allowedOrigins ? { allowedOrigins: h.allowedOrigins } : {}),
            ...(h.allowedRate ? { allowedRate: h.allowedRate } : {}),
            ...(h.name === 'asana-hook-secret' && extra.captureSecret ? { waiting: !c.signingSecret } : {}),
          })),
        }
      : {}),
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
      labels: { ...triggerLabels(route), [Labels.route]: 'true' },
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
  | 'urlTokenRef'
  | 'secretCapture'
> {
  const extra = extraCredentials(spec);
  const urlTokenRef = extra.urlToken
    ? (extra.urlToken.secretRef ?? { name: credentialsSecretName(trigger), key: CredentialKeys.urlToken })
    : undefined;
  const capturedTime = stored?.annotations[CAPTURED_AT];
  return {
    ...(stored ? { credentialsSecret: credentialsSecretName(trigger) } : {}),
    ...(parts.token && resolved.token ? { tokenPrefix: resolved.token.slice(0, 8) } : {}),
    signingSecretSet: !!resolveAuth(spec.auth).verifier && !!resolved.signingSecret,
    ...(stored?.annotations[ROTATED_AT] ? { lastRotationTime: stored.annotations[ROTATED_AT] } : {}),
    ...(resolved.previousValidUntil ? { previousCredentialsValidUntil: resolved.previousValidUntil } : {}),
    ...(urlTokenRef ? { urlTokenRef } : {}),
    ...(parts.capture
      ? {
          secretCapture: resolved.signingSecret
            ? { state: 'Captured' as const, ...(capturedTime ? { capturedTime } : {}) }
            : { state: 'Waiting' as const },
        }
      : {}),
  };
}
