import type { V1Secret } from '@kubernetes/client-node';
import {
  Annotations,
  ConditionType,
  CredentialKeys,
  EventReason,
  extraCredentials,
  KEY_SHAPES,
  labelledTrigger,
  MIN_SECRET_BYTES,
  Reason,
  type Route,
  resolveAuth,
  routePath,
  type WebhookTrigger as TriggerObject,
  WEBHOOK_TRIGGER,
  WebhookTriggerSpec,
  type Workflow as WorkflowObject,
  WorkflowSpec,
} from '../../../api/v1alpha1/index.ts';
import { controllerRef } from '../../../lib/cache-views.ts';
import { captureSecretName, readCapture } from '../../../lib/capture.ts';
import { IdentityConfigError, type IdentityValues, identityVerifier } from '../../../lib/identity.ts';
import type { Logger } from '../../../lib/log.ts';
import { pick } from '../../../lib/pick.ts';
import type { Cache, ConditionMetrics, ObjectKey, Reconciler, Result } from '../../runtime/types.ts';
import { findCondition, isTrue, type Summary } from '../conditions.ts';
import { StalledError, UnavailableError, verdictOf, WaitingError } from '../errors.ts';
import type { EventRecorder } from '../events.ts';
import type { Cached } from '../resources.ts';
import { StatusPatcher } from '../status.ts';
import type { OwnedStatus, TriggerApi } from './apply.ts';
import {
  CAPTURED_AT,
  credentialStatus,
  credentialsSecret,
  credentialsSecretName,
  desiredRoute,
  type Generators,
  generatedParts,
  type PartName,
  type Parts,
  planCredentials,
  REVOKED_FOR,
  ROTATED_AT,
  ROTATED_FOR,
  resolveCredentials,
  routeSecret,
  routeSecretName,
  type StoredCredentials,
  sameRoute,
  triggerURL,
  unavailableMessage,
  unavailableRoute,
} from './desired.ts';
import type { TriggerSecrets } from './referenced.ts';

/** The trigger's identity verifier; a key, rule or JWKS that cannot work is a spec error (Stalled). */
function senderIdentity(spec: WebhookTriggerSpec, values: IdentityValues) {
  try {
    return identityVerifier(spec.auth, values);
  } catch (err) {
    if (err instanceof IdentityConfigError) throw new StalledError(Reason.InvalidSpec, err.message);
    throw err;
  }
}

/** The public keys and JWKS a trigger of a sender without a shared secret pins, inline or from Secrets. */
async function identityValues(
  spec: WebhookTriggerSpec,
  read: (ref: { name: string; key: string } | undefined) => Promise<string | undefined>,
): Promise<IdentityValues> {
  const publicKeys = spec.auth.publicKeys
    ? await Promise.all(spec.auth.publicKeys.map(async (k) => k.value ?? (await read(k.secretRef))!))
    : undefined;
  const jwks = await read(spec.auth.oidc?.jwks?.secretRef);
  return { ...(publicKeys ? { publicKeys } : {}), ...(jwks !== undefined ? { jwks } : {}) };
}

/** How Events name each credential. */
const PART_WORDS: Record<PartName, string> = {
  token: 'bearer token',
  signingSecret: 'signing secret',
  basic: 'Basic credentials',
  urlToken: 'URL token',
  bodySecret: 'body secret',
  verifyToken: 'verify token',
};

type WebhookTrigger = Cached<TriggerObject>;
type Workflow = Cached<WorkflowObject>;

export interface TriggerConfig {
  publicBaseUrl: string;
  ingressNamespace: string;
  /** Milliseconds rotated-out credentials stay valid. */
  rotationGrace: number;
}

export interface TriggerDeps {
  triggers: Cache<WebhookTrigger>;
  workflows: Cache<Workflow>;
  /** Secrets of the watched namespaces: generated credentials, and the user's referenced ones. */
  secrets: TriggerSecrets;
  /** Route Secrets in the ingress namespace. */
  routes: Cache<V1Secret>;
  /** Secrets the ingress captured from handshakes, in its namespace (lib/capture.ts). */
  captures: Cache<V1Secret>;
  api: TriggerApi;
  events: EventRecorder;
  conditions: ConditionMetrics;
  log: Logger;
  config: TriggerConfig;
  generate: Generators;
  now?: () => Date;
}

const CREDENTIAL_FIELDS = [
  'credentialsSecret',
  'tokenPrefix',
  'signingSecretSet',
  'lastRotationTime',
  'previousCredentialsValidUntil',
  'urlTokenRef',
  'secretCapture',
] as const;
const OWNED_FIELDS = ['observedGeneration', 'conditions', 'url', 'path', ...CREDENTIAL_FIELDS] as const;
type CredentialFields = Pick<OwnedStatus, (typeof CREDENTIAL_FIELDS)[number]>;

const decode = (v: string | undefined) =>
  v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');

export class WebhookTriggerReconciler implements Reconciler {
  readonly name = 'webhooktrigger';
  private readonly now: () => Date;
  private readonly status: StatusPatcher<OwnedStatus>;

  constructor(private readonly d: TriggerDeps) {
    this.now = d.now ?? (() => new Date());
    this.status = new StatusPatcher<OwnedStatus>(WEBHOOK_TRIGGER.kind, OWNED_FIELDS, d);
  }

  async reconcile(key: ObjectKey, log: Logger = this.d.log): Promise<Result | undefined> {
    const trigger = this.d.triggers.get(key);
    // Read once: one that arrives during this pass is the next pass's (deletes below name this one).
    const capture = this.d.captures.get(this.captureKey(key));
    if (!trigger || trigger.metadata.deletionTimestamp) {
      await this.removeRoute(key);
      await this.dropCapture(capture);
      this.status.forget(key);
      return undefined;
    }
    const before = this.status.snapshot(trigger);
    const now = this.now();
    const url = triggerURL(this.d.config.publicBaseUrl, key.namespace, key.name);
    let creds: CredentialFields = pick(before, CREDENTIAL_FIELDS);
    let summary: Summary;
    let requeueAfter: number | undefined;
    let spec: WebhookTriggerSpec | undefined;

    try {
      if (key.name.length > 63)
        throw new StalledError(
          Reason.InvalidSpec,
          'name must be at most 63 characters: it is used as a label value',
        );
      const parsed = WebhookTriggerSpec.safeParse(trigger.spec);
      if (!parsed.success) throw new StalledError(Reason.InvalidSpec, parsed.error.message);
      spec = parsed.data;
      const parts = generatedParts(spec);
      // A new trigger's first credentials are part of it turning Ready, which status shows; generating
      // again (a part added, the Secret deleted) is a change worth an Event.
      const announce = (before.observedGeneration ?? -1) >= 0;
      const captured = parts.capture ? this.captured(capture, trigger.metadata.uid ?? '') : undefined;
      const stored = await this.ensureCredentials(trigger, parts, now, announce, captured, (ms) => {
        requeueAfter = ms;
      });
      // Status shows the generated credentials even while a referenced Secret is missing.
      creds = credentialStatus(key.name, parts, stored, resolveCredentials(parts, stored?.data, {}), spec);
      const refs = await this.referenced(key.namespace, spec);
      const resolved = resolveCredentials(parts, stored?.data, refs);
      creds = credentialStatus(key.name, parts, stored, resolved, spec);
      checkSigningKey(spec, parts, resolved.signingSecret);
      const identity = senderIdentity(spec, refs);
      const workflow = this.readyWorkflow(key.namespace, spec.workflowRef.name);
      await this.publish(
        desiredRoute({
          trigger: this.identity(trigger, spec),
          workflow,
          credentials: resolved,
          url,
          identity,
        }),
      );
      // Taken in, stale or unwanted; after the route stopped waiting, which could make it again.
      await this.dropCapture(capture);
      // Suspended is a state the user asked for and the operator reached (the route answers 403),
      // so Ready=True: `kubectl wait --for=condition=Ready` and GitOps health stay green.
      summary = spec.suspend
        ? { ready: true, reason: Reason.Suspended, message: `Suspended: ${url} answers 403` }
        : { ready: true, reason: Reason.Succeeded, message: `Serving ${url}` };
    } catch (err) {
      const verdict = verdictOf(err);
      if (!verdict) {
        await this.status.fail(trigger, before, err, now, log);
        throw err;
      }
      // A trigger whose spec is usable but that cannot start runs keeps its URL answering 503; an
      // unusable spec has no route.
      if (spec && err instanceof UnavailableError) {
        const unavailable = { reason: err.reason, message: err.publicMessage };
        await this.publish(unavailableRoute(this.identity(trigger, spec), unavailable));
      } else {
        await this.removeRoute(key);
      }
      summary = verdict.summary;
      if (verdict.requeueAfter !== undefined)
        requeueAfter = Math.min(verdict.requeueAfter, requeueAfter ?? Infinity);
    }

    const rest = { url, path: routePath(key.namespace, key.name), ...creds };
    return this.status.finish(
      trigger,
      before,
      summary,
      rest,
      now,
      requeueAfter === undefined ? {} : { requeueAfter },
    );
  }

  private identity(trigger: WebhookTrigger, spec: WebhookTriggerSpec) {
    const { namespace = '', name = '', uid = '', generation = 0 } = trigger.metadata;
    return { namespace, name, uid, generation, spec };
  }

  /**
   * Creates the credentials Secret when missing, rotates and expires on schedule, and returns its
   * content. Generation happens only inside planCredentials, only for absent keys; a stale cache
   * can only make a write fail (create: AlreadyExists; update: resourceVersion), never overwrite.
   */
  private async ensureCredentials(
    trigger: WebhookTrigger,
    parts: Parts,
    now: Date,
    announceGenerated: boolean,
    captured: string | undefined,
    requeue: (ms: number) => void,
  ): Promise<StoredCredentials | undefined> {
    const { namespace = '', name = '', uid = '' } = trigger.metadata;
    const secretName = credentialsSecretName(name);
    const secret = await this.credentialsSecret({ namespace, name: secretName }, uid);
    const controller = secret && controllerRef(secret.metadata);
    if (secret && controller?.uid !== uid) {
      if (controller?.kind === WEBHOOK_TRIGGER.kind && controller.name === name)
        throw new WaitingError(
          Reason.Progressing,
          `Secret ${secretName} belongs to a deleted WebhookTrigger of the same name; waiting for garbage collection`,
          2000,
        );
      throw new StalledError(
        Reason.InvalidSpec,
        `Secret ${secretName} exists and is not controlled by this WebhookTrigger; delete or rename it`,
      );
    }
    const existing: StoredCredentials | undefined = secret && {
      data: Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, decode(v) ?? ''])),
      annotations: pick(secret.metadata?.annotations ?? {}, [
        ROTATED_FOR,
        REVOKED_FOR,
        ROTATED_AT,
        CAPTURED_AT,
      ]),
    };
    const plan = planCredentials({
      parts,
      existing,
      rotate: trigger.metadata.annotations?.[Annotations.rotate],
      revoke: trigger.metadata.annotations?.[Annotations.revoke],
      graceMs: this.d.config.rotationGrace,
      now,
      generate: this.d.generate,
      ...(captured !== undefined ? { captured } : {}),
    });
    if (!plan) return undefined;
    const owner = { namespace, name, uid };
    if (plan.write === 'create') await this.d.api.createSecret(credentialsSecret(owner, plan));
    if (plan.write === 'update')
      await this.d.api.applySecret(credentialsSecret(owner, plan, secret?.metadata?.resourceVersion));

    const what = (ps: readonly PartName[]) => ps.map((p) => PART_WORDS[p]).join(', ');
    if (plan.generated.length && announceGenerated)
      this.event(
        trigger,
        'Normal',
        EventReason.CredentialsGenerated,
        `Generated ${what(plan.generated)} in Secret ${secretName}`,
      );
    if (plan.revoked)
      this.event(
        trigger,
        'Normal',
        EventReason.CredentialsRevoked,
        `Revoked credentials in Secret ${secretName} (${Annotations.revoke}=${plan.annotations[REVOKED_FOR]}): new ones were generated and the earlier ones are no longer accepted`,
      );
    else if (plan.rotated)
      this.event(
        trigger,
        'Normal',
        EventReason.CredentialsRotated,
        `Rotated credentials in Secret ${secretName} (${Annotations.rotate}=${plan.annotations[ROTATED_FOR]}); the previous ones are accepted until ${plan.data.previousValidUntil}`,
      );
    else if (plan.expired)
      this.event(
        trigger,
        'Normal',
        EventReason.PreviousCredentialsExpired,
        'Previous credentials expired and were removed',
      );
    if (plan.captured)
      this.event(
        trigger,
        'Normal',
        EventReason.SecretCaptured,
        `Captured the signing secret from the asana-hook-secret handshake into Secret ${secretName}; further handshakes are refused until ${Annotations.rotate} is set again`,
      );
    if (plan.requeueAfter !== undefined) requeue(plan.requeueAfter);
    return plan;
  }

  /**
   * The credentials Secret from the labelled cache, which keeps its data once it knew the trigger
   * that controls it. Otherwise, when this trigger controls it, read whole: its labels were removed
   * by hand (only the identity cache knows it; ownership, not labels, makes it ours), or it was
   * listed before its trigger (then the cache keeps it with its data from now on). A Secret this
   * trigger does not control is returned as is, so that the caller reports the clash.
   */
  private async credentialsSecret(key: ObjectKey, uid: string): Promise<V1Secret | undefined> {
    const cached = this.d.secrets.credentials.get(key);
    if (cached?.data) return cached;
    const identity = cached ?? this.d.secrets.identities.get(key);
    if (!identity || controllerRef(identity.metadata)?.uid !== uid) return identity;
    const secret = await this.d.secrets.get(key);
    if (secret && cached) this.d.secrets.credentials.refresh?.(secret);
    return secret;
  }

  /**
   * Values of `secretRef`s, read on demand at the resourceVersion the metadata watch last saw; a
   * missing Secret or key is a configuration error that recovers when it appears.
   */
  private async referenced(
    namespace: string,
    spec: WebhookTriggerSpec,
  ): Promise<Partial<Record<PartName, string>> & IdentityValues> {
    const read = async (ref: { name: string; key: string } | undefined) => {
      if (!ref) return undefined;
      const key = { namespace, name: ref.name };
      const identity = this.d.secrets.identities.get(key);
      const found =
        identity &&
        (await this.d.secrets.values.value(key, ref.key, identity.metadata?.resourceVersion ?? ''));
      if (!found?.exists)
        throw new UnavailableError(
          new StalledError(Reason.SecretNotFound, `Secret ${ref.name} not found in namespace ${namespace}`),
          unavailableMessage(Reason.SecretNotFound),
        );
      const value = found.value;
      if (!value)
        throw new UnavailableError(
          new StalledError(
            Reason.SecretKeyNotFound,
            `Secret ${ref.name} has no key "${ref.key}" (or it is empty)`,
          ),
          unavailableMessage(Reason.SecretKeyNotFound),
        );
      // A guessable secret is no credential; the message names the key, never the value or its length.
      if (Buffer.byteLength(value) < MIN_SECRET_BYTES)
        throw new UnavailableError(
          new StalledError(
            Reason.SecretTooShort,
            `Secret ${ref.name} key "${ref.key}" holds fewer than ${MIN_SECRET_BYTES} bytes; a referenced secret needs at least ${MIN_SECRET_BYTES} (e.g. openssl rand -hex 32)`,
          ),
          unavailableMessage(Reason.SecretTooShort),
        );
      return value;
    };
    const extra = extraCredentials(spec);
    const meta = extra.handshakes.find((h) => h.name === 'meta-verify-token');
    const basicRef = extra.basic?.secretRef;
    const basic = basicRef && {
      username: await read({ name: basicRef.name, key: CredentialKeys.username }),
      password: await read({ name: basicRef.name, key: CredentialKeys.password }),
    };
    return {
      token: await read(spec.auth.bearer?.secretRef),
      signingSecret: await read(spec.auth.signature?.secretRef),
      ...(basic ? { basic: `${basic.username}:${basic.password}` } : {}),
      urlToken: await read(extra.urlToken?.secretRef),
      bodySecret: await read(extra.bodySecret?.secretRef),
      verifyToken: await read(meta?.verifyToken?.secretRef),
      ...(await identityValues(spec, read)),
    };
  }

  private readyWorkflow(namespace: string, name: string): { name: string; uid: string; spec: WorkflowSpec } {
    const wf = this.d.workflows.get({ namespace, name });
    if (!wf)
      throw new UnavailableError(
        new StalledError(Reason.WorkflowNotFound, `Workflow ${name} not found in namespace ${namespace}`),
        unavailableMessage(Reason.WorkflowNotFound),
      );
    const ready = findCondition(wf.status?.conditions, ConditionType.Ready);
    // Ready=True of an older generation still counts: dropping the route for each Workflow edit
    // would make the trigger answer 404 until the Workflow is validated again.
    if (!ready || ready.status === 'Unknown')
      throw new UnavailableError(
        new WaitingError(Reason.WorkflowNotReady, `Workflow ${name} has not been reconciled yet`),
        unavailableMessage(Reason.WorkflowNotReady),
      );
    if (ready.status !== 'True') {
      const why = `Workflow ${name} is not ready (${ready.reason}): ${ready.message}`;
      throw new UnavailableError(
        isTrue(wf.status?.conditions, ConditionType.Stalled)
          ? new StalledError(Reason.WorkflowNotReady, why)
          : new WaitingError(Reason.WorkflowNotReady, why),
        unavailableMessage(Reason.WorkflowNotReady, ready.reason),
      );
    }
    // A spec edited since its Ready verdict, that this operator cannot read: its own reconcile will
    // say why; until then the URL answers 503 (not 404, as if the trigger were gone).
    const spec = WorkflowSpec.safeParse(wf.spec);
    if (!spec.success)
      throw new UnavailableError(
        new WaitingError(Reason.WorkflowNotReady, `Workflow ${name} is invalid: ${spec.error.message}`),
        unavailableMessage(Reason.WorkflowNotReady),
      );
    return { name, uid: wf.metadata.uid ?? '', spec: spec.data };
  }

  private async publish(route: Route): Promise<void> {
    const desired = routeSecret(route, this.d.config.ingressNamespace);
    const current = this.d.routes.get({
      namespace: this.d.config.ingressNamespace,
      name: desired.metadata!.name!,
    });
    if (!sameRoute(current, desired)) await this.d.api.applySecret(desired);
  }

  private async removeRoute(key: ObjectKey): Promise<void> {
    const name = routeSecretName(key.namespace, key.name);
    if (this.d.routes.get({ namespace: this.d.config.ingressNamespace, name }))
      await this.d.api.deleteSecret(this.d.config.ingressNamespace, name);
  }

  private captureKey(key: ObjectKey): ObjectKey {
    return { namespace: this.d.config.ingressNamespace, name: captureSecretName(key.namespace, key.name) };
  }

  /** The value the ingress captured for this very trigger (the uid tells a re-created one apart). */
  private captured(secret: V1Secret | undefined, uid: string): string | undefined {
    const capture = secret && readCapture(secret);
    return capture && capture.uid === uid ? capture.value : undefined;
  }

  /** Deletes that very capture Secret (its uid): taken in, stale, or not wanted. */
  private async dropCapture(secret: V1Secret | undefined): Promise<void> {
    const { namespace, name, uid } = secret?.metadata ?? {};
    if (namespace && name) await this.d.api.deleteSecret(namespace, name, uid);
  }

  private event(trigger: WebhookTrigger, type: 'Normal' | 'Warning', reason: string, note: string): void {
    this.d.events.record(trigger, type, reason, note);
  }
}

/**
 * A signing secret must be a key of the encoding its verifier reads: a provider's base64 token
 * (Teams) that is not base64 would make the trigger refuse every delivery, so it is Stalled instead.
 */
function checkSigningKey(spec: WebhookTriggerSpec, parts: Parts, secret: string | undefined): void {
  const verifier = resolveAuth(spec.auth).verifier;
  if (verifier?.type !== 'hmac' || secret === undefined || KEY_SHAPES[verifier.keyEncoding].test(secret))
    return;
  const ref = spec.auth.signature?.secretRef;
  const where =
    parts.signingSecret || !ref ? 'the generated signing secret' : `Secret ${ref.name} key "${ref.key}"`;
  const fix = parts.signingSecret
    ? 'rotate it to generate one that is'
    : 'put the secret there as the provider shows it';
  throw new UnavailableError(
    new StalledError(
      Reason.InvalidSecret,
      `${where} is not a ${verifier.keyEncoding} key, which this trigger's signatures need: ${fix}`,
    ),
    unavailableMessage(Reason.InvalidSecret),
  );
}

/** Route Secret → its trigger (also how orphans are swept: the informer's initial adds land here). */
export const routeOwner = (secret: V1Secret): ObjectKey[] => {
  const trigger = labelledTrigger(secret.metadata?.labels);
  return trigger ? [trigger] : [];
};
