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
      signature: Signature.optional(),
    })
    .strict(),
  {
    rule: 'has(self.bearer) || has(self.signature)',
    message: 'auth needs bearer, signature or both',
    check: (a) => a.bearer !== undefined || a.signature !== undefined,
  },
);

export const WebhookTriggerSpec = z
  .object({
    workflowRef: z.object({ name: Name }).strict().describe('The Workflow in the same namespace that runs.'),
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
        'Verified deliveries allowed per client address (IPv6: per /64) and period, across all ingress replicas: each replica enforces its share (at least 1), so behind an even load balancer the limit holds cluster-wide; with fewer requests than replicas, up to one per replica.',
      ),
    maxBodyBytes: z.number().int().min(1).max(1_048_576).default(1_048_576),
    input: z
      .object({
        defaults: JsonObject.optional().describe('Values merged under the payload.'),
        query: z
          .boolean()
          .default(false)
          .describe(
            'Add the URL query parameters as `_query` (default off). Unsigned: no signature scheme covers the URL, so whoever relays or replays a delivery can change them; never trust them for a decision.',
          ),
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
        timeoutSeconds: z
          .number()
          .int()
          .min(1)
          .max(300)
          .default(30)
          .describe('wait mode: how long the answer waits for the run to finish (then 504 with the run id).'),
        deadlineSeconds: z
          .number()
          .int()
          .min(3)
          .max(60)
          .default(8)
          .describe(
            "The longest a sender waits for its delivery to be accepted, counted from the request's arrival (in wait mode, until the run has started; the wait follows). Past it the answer is 503 `deadline_exceeded` with Retry-After, and a retry of the delivery is answered as the same run if it started meanwhile. Default 8 (GitHub gives up after 10 s); 3 for Slack.",
          ),
        statusCode: z.number().int().min(200).max(299).optional(),
        headers: HeaderMap(z.string().max(4096)).optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();

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
