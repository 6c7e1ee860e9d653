// Names shared by every component: the API group, label and annotation keys, condition types and
// reasons. This module imports nothing of ours.
export const GROUP = 'hookgate.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const WORKFLOW = { kind: 'Workflow', plural: 'workflows', singular: 'workflow', shortNames: ['hgwf'] };
export const WEBHOOK_TRIGGER = {
  kind: 'WebhookTrigger',
  plural: 'webhooktriggers',
  singular: 'webhooktrigger',
  shortNames: ['hgt', 'hgtrigger'],
};
/** The operator's record of a namespace's Workflows, for the run-owners admission policy (listing.ts). */
export const WORKFLOW_LISTING = {
  kind: 'WorkflowListing' as const,
  plural: 'workflowlistings',
  singular: 'workflowlisting',
  shortNames: ['hgwl'],
};
export const CATEGORY = 'hookgate';

export const Labels = {
  managedBy: 'app.kubernetes.io/managed-by',
  trigger: 'hookgate.io/trigger',
  workflow: 'hookgate.io/workflow',
  /** sha256 of the delivery id (ids are not always valid label values). */
  delivery: 'hookgate.io/delivery',
  /** Marks the per-trigger route Secrets the operator publishes for the ingress. */
  route: 'hookgate.io/route',
  triggerNamespace: 'hookgate.io/trigger-namespace',
  /** Marks a secret the ingress captured from a handshake (Asana), for the operator to take in. */
  capture: 'hookgate.io/capture',
} as const;
export const MANAGED_BY = 'hookgate';

/**
 * The labels of what hookgate keeps in its own namespace for a trigger in another (route and
 * capture Secrets): no owner reference can cross namespaces, so these say whose it is.
 */
export function triggerLabels(trigger: { namespace: string; name: string }): Record<string, string> {
  return {
    [Labels.managedBy]: MANAGED_BY,
    [Labels.trigger]: trigger.name,
    [Labels.triggerNamespace]: trigger.namespace,
  };
}

/** The trigger that `triggerLabels` named, or undefined. */
export function labelledTrigger(
  labels: Record<string, string> | undefined,
): { namespace: string; name: string } | undefined {
  const name = labels?.[Labels.trigger];
  const namespace = labels?.[Labels.triggerNamespace];
  return name && namespace ? { namespace, name } : undefined;
}

export const Annotations = {
  /** Set to any new value to rotate a trigger's generated credentials. */
  rotate: 'hookgate.io/rotate',
  /**
   * Any new value: new generated credentials at once, and the previous ones (a leaked credential)
   * are no longer accepted: a rotation without the grace period.
   */
  revoke: 'hookgate.io/revoke',
  deliveryId: 'hookgate.io/delivery-id',
  /**
   * On a finished run's Job, written by the operator: `{"exitCode":N,"message":"..."}` of its pod, so
   * the ingress answers wait-mode requests without reading Pods.
   */
  result: 'hookgate.io/result',
  /** On a run's Job: until when (RFC 3339) it must be kept as the record that blocks replays. */
  replayUntil: 'hookgate.io/replay-until',
  /** On a run's Job and input Secret: the trace id of the request that started it (tracing on). */
  traceId: 'hookgate.io/trace-id',
} as const;

export const ConditionType = { Ready: 'Ready', Reconciling: 'Reconciling', Stalled: 'Stalled' } as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const Reason = {
  Succeeded: 'Succeeded',
  Progressing: 'Progressing',
  Suspended: 'Suspended',
  WorkflowNotFound: 'WorkflowNotFound',
  WorkflowNotReady: 'WorkflowNotReady',
  SecretNotFound: 'SecretNotFound',
  SecretKeyNotFound: 'SecretKeyNotFound',
  /** A signing secret that is not a key of the encoding its verifier reads (base64, hex, whsec_). */
  InvalidSecret: 'InvalidSecret',
  SecretTooShort: 'SecretTooShort',
  InvalidSpec: 'InvalidSpec',
  InvalidJobTemplate: 'InvalidJobTemplate',
  InvalidInputSchema: 'InvalidInputSchema',
  /** The namespace has not opted in to runs (the chart's admission.runNamespaceLabels). */
  RunsNotEnabled: 'RunsNotEnabled',
  ReconcileFailed: 'ReconcileFailed',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** Reasons of the Events the operator records beyond the condition reasons (`kubectl describe`). */
export const EventReason = {
  CredentialsGenerated: 'CredentialsGenerated',
  CredentialsRotated: 'CredentialsRotated',
  CredentialsRevoked: 'CredentialsRevoked',
  PreviousCredentialsExpired: 'PreviousCredentialsExpired',
  SecretCaptured: 'SecretCaptured',
  RunSucceeded: 'RunSucceeded',
  RunFailed: 'RunFailed',
} as const;

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** Keys of the Secret the operator generates for each trigger (and the defaults for referenced ones). */
export const CredentialKeys = {
  token: 'token',
  signingSecret: 'signingSecret',
  /** HTTP Basic (auth.basic); the keys of a kubernetes.io/basic-auth Secret. */
  username: 'username',
  password: 'password',
  urlToken: 'urlToken',
  bodySecret: 'bodySecret',
  /** Meta's hub.verify_token (the meta handshake). */
  verifyToken: 'verifyToken',
  previousToken: 'previousToken',
  previousSigningSecret: 'previousSigningSecret',
  previousUsername: 'previousUsername',
  previousPassword: 'previousPassword',
  previousUrlToken: 'previousUrlToken',
  previousBodySecret: 'previousBodySecret',
  previousVerifyToken: 'previousVerifyToken',
  /** RFC 3339 time until which the previous credentials are still accepted. */
  previousValidUntil: 'previousValidUntil',
} as const;

/** Where `shared-secret` senders put the secret unless the trigger names another header. */
export const SHARED_SECRET_HEADER = 'X-Webhook-Secret';

/**
 * The name of the WorkflowListing the operator keeps in each namespace with Workflows: what the
 * chart's run-owners admission policy compares each run's Job with, since a policy cannot read the
 * Workflows themselves.
 */
export const WORKFLOW_LISTING_NAME = 'hookgate-workflows';

/** A Workflow's entry in its namespace's WorkflowListing: the uid a run's owner reference carries, and how its pod authenticates. */
export const workflowEntry = (
  uid: string,
  serviceAccountName: string,
  automountServiceAccountToken: boolean,
) =>
  `uid=${uid},serviceAccountName=${serviceAccountName},automountServiceAccountToken=${automountServiceAccountToken}`;

/**
 * How the chart's runs policy begins its refusal of a namespace that has not opted in to runs; the
 * operator tells it from other refusals by it and checks again, for the namespace may be labelled
 * any time.
 */
export const RUNS_NOT_ENABLED = 'hookgate: runs are not enabled in namespace';

/** A referenced secret (token, signing secret, password) holds at least this many bytes. */
export const MIN_SECRET_BYTES = 16;

export const TOKEN_PREFIX = 'hgt_';
export const URL_TOKEN_PREFIX = 'hgu_';
export const VERIFY_TOKEN_PREFIX = 'hgv_';

/** The key of a capture Secret (Labels.capture) that holds the captured value. */
export const CAPTURE_KEY = 'secret';
export const SIGNING_SECRET_PREFIX = 'whsec_';
/** Generated signing secrets of providers that accept only `A-Za-z0-9_-` (Telegram). */
export const URL_SAFE_SECRET_PREFIX = 'hgs_';
