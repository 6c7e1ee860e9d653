import { z } from 'zod';
import {
  Conditions,
  HeaderMap,
  HeaderName,
  JsonObject,
  Name,
  ObjectMeta,
  SecretKeyRef,
  withRules,
} from './common.ts';
import { HANDSHAKES, HandshakeName } from './handshakes.ts';

export const SignatureScheme = z.enum([
  'hmac-sha256', // HMAC-SHA256 of the raw body in a header: prefix and encoding configurable
  'timestamped', // `t=<ts>,v1=<hex>` over "<t>.<body>", seconds or milliseconds
  'standard-webhooks', // webhook-id / webhook-timestamp / webhook-signature
  'github', // X-Hub-Signature-256: sha256=<hex>
  'stripe', // Stripe-Signature: t=<s>,v1=<hex>
  'slack', // X-Slack-Signature: v0=<hex> over "v0:<ts>:<body>"
  'shared-secret', // the secret itself in a header (no signature)
]);
export type SignatureScheme = z.infer<typeof SignatureScheme>;

const CUSTOM_HEADER: readonly SignatureScheme[] = ['hmac-sha256', 'timestamped', 'shared-secret'];
const TIMED: readonly SignatureScheme[] = ['timestamped', 'standard-webhooks', 'stripe', 'slack'];
const UNTIMED_HMAC: readonly SignatureScheme[] = ['github', 'hmac-sha256'];

export const Signature = withRules(
  z
    .object({
      scheme: SignatureScheme,
      header: HeaderName.optional().describe(
        'Header carrying the signature (hmac-sha256, timestamped: X-Webhook-Signature; shared-secret: X-Webhook-Secret).',
      ),
      prefix: z
        .string()
        .max(32)
        .optional()
        .describe('hmac-sha256 only: text before the digest, e.g. "sha256=".'),
      encoding: z.enum(['hex', 'base64']).optional().describe('hmac-sha256 only (default hex).'),
      timestampUnit: z
        .enum(['seconds', 'milliseconds'])
        .optional()
        .describe('timestamped only (default seconds).'),
      toleranceSeconds: z
        .number()
        .int()
        .min(1)
        .max(86400)
        .optional()
        .describe('Accepted clock skew for timestamped schemes (default 300).'),
      replayWindowSeconds: z
        .number()
        .int()
        .min(1)
        .max(604800)
        .optional()
        .describe(
          'github and hmac-sha256 (no signed timestamp): how long a replayed delivery is answered as a duplicate (default 3600).',
        ),
      secretRef: SecretKeyRef.optional().describe(
        'Use this Secret key as the signing secret instead of a generated one.',
      ),
    })
    .strict(),
  {
    rule: "self.scheme == 'hmac-sha256' || (!has(self.prefix) && !has(self.encoding))",
    message: 'prefix and encoding apply only to the hmac-sha256 scheme',
    check: (s) => s.scheme === 'hmac-sha256' || (s.prefix === undefined && s.encoding === undefined),
  },
  {
    rule: "self.scheme == 'timestamped' || !has(self.timestampUnit)",
    message: 'timestampUnit applies only to the timestamped scheme',
    check: (s) => s.scheme === 'timestamped' || s.timestampUnit === undefined,
  },
  {
    rule: "self.scheme in ['hmac-sha256', 'timestamped', 'shared-secret'] || !has(self.header)",
    message: 'header is fixed by the github, stripe, slack and standard-webhooks schemes',
    check: (s) => CUSTOM_HEADER.includes(s.scheme) || s.header === undefined,
  },
  {
    rule: "self.scheme in ['timestamped', 'standard-webhooks', 'stripe', 'slack'] || !has(self.toleranceSeconds)",
    message: 'toleranceSeconds applies only to timestamped schemes',
    check: (s) => TIMED.includes(s.scheme) || s.toleranceSeconds === undefined,
  },
  {
    rule: "self.scheme in ['github', 'hmac-sha256'] || !has(self.replayWindowSeconds)",
    message:
      'replayWindowSeconds applies only to the github and hmac-sha256 schemes (others use toleranceSeconds)',
    check: (s) => UNTIMED_HMAC.includes(s.scheme) || s.replayWindowSeconds === undefined,
  },
);

/** A dot path into the JSON body where `*` is every element of an array, e.g. `value.*.clientState`. */
export const BodyFieldPath = z
  .string()
  .min(1)
  .max(256)
  .regex(/^(([^.*]+|\*)\.)*[^.*]+$/, 'must be a dot path whose last segment is a field name');

export const Auth = withRules(
  z
    .object({
      bearer: z
        .object({
          secretRef: SecretKeyRef.optional().describe(
            'Use this Secret key as the token instead of a generated one.',
          ),
        })
        .strict()
        .optional()
        .describe('Require `Authorization: Bearer <token>`.'),
      basic: z
        .object({
          secretRef: z
            .object({ name: Name.describe('Name of a Secret in the same namespace.') })
            .strict()
            .optional()
            .describe(
              'Use the keys `username` and `password` of this Secret (as in a kubernetes.io/basic-auth Secret) instead of generated ones.',
            ),
        })
        .strict()
        .optional()
        .describe(
          'Require HTTP Basic authentication (`Authorization: Basic`), for senders that can only send a user and password (Alertmanager, Grafana, Argo CD, Bitbucket Data Center, Postmark). Generated into the credentials Secret (keys `username`, `password`) and rotated like tokens; 401 answers carry `WWW-Authenticate: Basic realm="hookgate"`.',
        ),
      urlToken: z
        .object({
          secretRef: SecretKeyRef.optional().describe(
            'Use this Secret key as the URL token instead of a generated one.',
          ),
        })
        .strict()
        .optional()
        .describe(
          "Require a token as one more path segment, `<status.url>/<token>`, for senders that can carry nothing else (Docker Hub, Quay). Generated into the credentials Secret (key `urlToken`, named by status.urlTokenRef) and rotated like tokens; `hookgate url --with-token` prints the full URL. Anyone who sees the URL (proxy logs, the sender's settings page) has the credential: prefer a header or a signature where the sender has one.",
        ),
      bodySecret: z
        .object({
          field: BodyFieldPath.describe(
            'Where the secret is in the JSON body; `*` is every element of an array, and every element must carry it (Microsoft Graph: `value.*.clientState`).',
          ),
          secretRef: SecretKeyRef.optional().describe(
            'Use this Secret key as the secret instead of a generated one.',
          ),
        })
        .strict()
        .optional()
        .describe(
          'Require a shared secret in a body field (Microsoft Graph change notifications: `clientState`), compared in constant time. Generated into the credentials Secret (key `bodySecret`) and rotated like tokens; removed from the run input.',
        ),
      signature: Signature.optional(),
    })
    .strict(),
  {
    rule: 'has(self.bearer) || has(self.basic) || has(self.urlToken) || has(self.bodySecret) || has(self.signature)',
    message: 'auth needs at least one of bearer, basic, urlToken, bodySecret or signature',
    check: (a) =>
      a.bearer !== undefined ||
      a.basic !== undefined ||
      a.urlToken !== undefined ||
      a.bodySecret !== undefined ||
      a.signature !== undefined,
  },
  {
    rule: '!(has(self.bearer) && has(self.basic))',
    message: 'bearer and basic both use the Authorization header: set one of them',
    check: (a) => a.bearer === undefined || a.basic === undefined,
  },
);

const Origin = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(\*|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/, 'must be a DNS name or "*"');

export const Handshake = withRules(
  z
    .object({
      name: HandshakeName.describe(
        `The handshake: ${Object.entries(HANDSHAKES)
          .map(([name, h]) => `\`${name}\` (${h.method}) ${h.summary}`)
          .join('; ')}.`,
      ),
      verifyToken: z
        .object({
          secretRef: SecretKeyRef.optional().describe(
            'Use this Secret key as the verify token instead of a generated one.',
          ),
        })
        .strict()
        .optional()
        .describe(
          "meta only: the verify token to paste into the app's webhook settings. Generated into the credentials Secret (key `verifyToken`) unless secretRef is set; rotated like tokens.",
        ),
      allowedOrigins: z
        .array(Origin)
        .min(1)
        .max(16)
        .optional()
        .describe(
          'cloudevents only (required there): the `WebHook-Request-Origin` values allowed to deliver, e.g. eventgrid.azure.net; "*" allows any.',
        ),
      allowedRate: z
        .number()
        .int()
        .min(1)
        .max(1_000_000)
        .optional()
        .describe(
          "cloudevents only: the WebHook-Allowed-Rate granted, in requests per minute (default: the trigger's rateLimit per minute).",
        ),
    })
    .strict(),
  {
    rule: "self.name == 'meta' || !has(self.verifyToken)",
    message: 'verifyToken applies only to the meta handshake',
    check: (h) => h.name === 'meta' || h.verifyToken === undefined,
  },
  {
    rule: "(self.name == 'cloudevents') == has(self.allowedOrigins)",
    message: 'allowedOrigins is required by the cloudevents handshake and applies only to it',
    check: (h) => (h.name === 'cloudevents') === (h.allowedOrigins !== undefined),
  },
  {
    rule: "self.name == 'cloudevents' || !has(self.allowedRate)",
    message: 'allowedRate applies only to the cloudevents handshake',
    check: (h) => h.name === 'cloudevents' || h.allowedRate === undefined,
  },
);
export type Handshake = z.infer<typeof Handshake>;

type HandshakeSpec = { handshakes?: { name: string }[]; auth: z.output<typeof Auth> };
const declares = (s: HandshakeSpec, names: string[]) => !!s.handshakes?.some((h) => names.includes(h.name));

export const WebhookTriggerSpec = withRules(
  z
    .object({
      workflowRef: z
        .object({ name: Name })
        .strict()
        .describe('The Workflow in the same namespace that runs.'),
      suspend: z.boolean().default(false).describe('A suspended trigger answers 403 and starts nothing.'),
      auth: Auth,
      rateLimit: z
        .object({
          requests: z.number().int().min(1).max(1_000_000).default(30),
          periodSeconds: z.number().int().min(1).max(86400).default(60),
        })
        .strict()
        .prefault({})
        .describe(
          'Verified deliveries allowed per client address (IPv6: per /64) and period, per ingress replica.',
        ),
      maxBodyBytes: z.number().int().min(1).max(1_048_576).default(1_048_576),
      input: z
        .object({
          defaults: JsonObject.optional().describe('Values merged under the payload.'),
          query: z.boolean().default(true).describe('Add query parameters as `_query`.'),
          headers: z.array(HeaderName).max(32).optional().describe('Request headers copied into `_headers`.'),
        })
        .strict()
        .prefault({}),
      filter: z
        .object({
          headers: HeaderMap(z.array(z.string()).min(1).max(64))
            .optional()
            .describe('Each header must equal one of the values.'),
          fields: z
            .array(
              z
                .object({
                  path: z.string().min(1).max(256).describe('Dot path into the JSON payload, e.g. "ref".'),
                  values: z.array(z.string()).min(1).max(64),
                })
                .strict(),
            )
            .max(16)
            .optional()
            .describe('Each payload field must equal one of the values.'),
        })
        .strict()
        .optional()
        .describe('Deliveries that do not match are acknowledged (202) and start nothing.'),
      idempotency: withRules(
        z
          .object({
            header: HeaderName.optional(),
            field: z.string().min(1).max(256).optional().describe('Dot path into the payload.'),
          })
          .strict(),
        {
          rule: '!(has(self.header) && has(self.field))',
          message: 'set header or field, not both',
          check: (i) => i.header === undefined || i.field === undefined,
        },
      )
        .optional()
        .describe("Where the delivery id comes from (default: the scheme's own, e.g. X-GitHub-Delivery)."),
      response: z
        .object({
          mode: z.enum(['async', 'wait']).default('async'),
          timeoutSeconds: z.number().int().min(1).max(300).default(30),
          statusCode: z.number().int().min(200).max(299).optional(),
          headers: HeaderMap(z.string().max(4096)).optional(),
        })
        .strict()
        .prefault({}),
      handshakes: z
        .array(Handshake)
        .max(8)
        .optional()
        .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
        .describe(
          "Handshakes the ingress answers for this trigger besides its deliveries, never starting a run (a provider's own are implied; the slack scheme implies slack). A method other than POST reaches the trigger only through one of these.",
        ),
    })
    .strict(),
  {
    rule: "!has(self.handshakes) || !self.handshakes.exists(h, h.name in ['slack', 'zoom', 'twitch']) || has(self.auth.signature)",
    message: 'the slack, zoom and twitch handshakes are signed: set auth.signature',
    check: (s) => !declares(s, ['slack', 'zoom', 'twitch']) || s.auth.signature !== undefined,
  },
  {
    rule: "!has(self.handshakes) || !self.handshakes.exists(h, h.name == 'asana') || (has(self.auth.signature) && !has(self.auth.signature.secretRef))",
    message: 'the asana handshake captures the signing secret: set auth.signature without secretRef',
    check: (s) =>
      !declares(s, ['asana']) || (s.auth.signature !== undefined && s.auth.signature.secretRef === undefined),
  },
);

export const WebhookTriggerStatus = z
  .object({
    observedGeneration: z.number().int().default(-1),
    conditions: Conditions.optional(),
    url: z.string().optional(),
    path: z.string().optional(),
    credentialsSecret: z.string().optional(),
    tokenPrefix: z.string().optional(),
    signingSecretSet: z.boolean().optional(),
    lastRotationTime: z.string().optional(),
    previousCredentialsValidUntil: z.string().optional(),
    lastTriggeredTime: z.string().optional(),
    urlTokenRef: SecretKeyRef.optional().describe(
      'The Secret key holding the URL token: the full URL is `<url>/<token>` (`hookgate url --with-token`).',
    ),
    secretCapture: z
      .object({
        state: z.enum(['Waiting', 'Captured']),
        capturedTime: z.string().optional(),
      })
      .strict()
      .optional()
      .describe(
        'The asana handshake: Waiting until the first X-Hook-Secret is captured as the signing secret, then Captured (annotate hookgate.io/rotate to wait for a new one).',
      ),
    handshakes: z
      .array(z.object({ name: z.string().max(63), lastAnsweredTime: z.string() }).strict())
      .max(16)
      .optional()
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
      .describe(
        'Handshakes the ingress answered, each with the time of its last answer (written in batches).',
      ),
  })
  .strict();

export const WebhookTriggerSchema = z.object({
  apiVersion: z.literal('hookgate.io/v1alpha1'),
  kind: z.literal('WebhookTrigger'),
  metadata: ObjectMeta,
  spec: WebhookTriggerSpec,
  status: WebhookTriggerStatus.optional(),
});

export type WebhookTriggerSpec = z.infer<typeof WebhookTriggerSpec>;
export type WebhookTriggerStatus = z.infer<typeof WebhookTriggerStatus>;
export type WebhookTrigger = z.infer<typeof WebhookTriggerSchema>;
export type Signature = z.infer<typeof Signature>;
export type Auth = z.infer<typeof Auth>;
