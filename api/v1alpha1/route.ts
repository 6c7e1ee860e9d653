import { z } from 'zod';
import { IdentityVerifier } from './identity.ts';
import { HANDSHAKES } from './providers.ts';
import { Encoding, PingMatch, ValueSource, Verifier } from './verifier.ts';
import { RouteResponse, SignatureScheme, WebhookTriggerSpec } from './webhooktrigger.ts';
import { WorkflowSpec } from './workflow.ts';

/**
 * What the operator publishes for the ingress, one Secret per served trigger in the ingress's own
 * namespace (label `hookgate.io/route=true`, key `route.json`). It holds everything the ingress
 * needs to verify a delivery and launch its Job, so the ingress reads nothing else: no Secrets
 * in application namespaces, no Workflows.
 */
export const ROUTE_KEY = 'route.json';

export const Credential = z.object({
  value: z.string().min(1),
  /** RFC 3339; absent for the current credential, set on the previous one during rotation. */
  validUntil: z.string().optional(),
});
export type Credential = z.infer<typeof Credential>;

export const RouteSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  uid: z.string(),
  generation: z.number().int(),
  /** URL path the trigger is served on, e.g. /hooks/<namespace>/<name>. */
  path: z.string(),
  suspended: z.boolean(),
  /**
   * Set when the trigger exists but cannot start runs (its Workflow is missing or not runnable, a
   * referenced Secret is missing): the ingress answers 503 with this public message, never 500.
   */
  unavailable: z.object({ reason: z.string(), message: z.string() }).optional(),
  auth: z.object({
    /** Accepted bearer tokens: the current one and, during a rotation grace period, the previous. */
    tokens: z.array(Credential).optional(),
    /** Accepted HTTP Basic credentials, each `<username>:<password>`. */
    basic: z.array(Credential).optional(),
    /** Accepted tokens in the last path segment. */
    urlTokens: z.array(Credential).optional(),
    /** A secret every match of `field` (a dot path, `*` for every array element) must equal. */
    bodySecret: z.object({ field: z.string(), secrets: z.array(Credential) }).optional(),
    signature: z
      .object({
        /**
         * The verifier the ingress runs, resolved by the operator (resolve.ts). A route without one
         * (written by an older operator) states `scheme` and its knobs, resolved by the ingress.
         */
        verifier: Verifier.optional(),
        scheme: SignatureScheme.optional(),
        header: z.string().optional(),
        prefix: z.string().optional(),
        encoding: Encoding.optional(),
        timestampUnit: z.enum(['seconds', 'milliseconds']).optional(),
        toleranceSeconds: z.number().int().optional(),
        replayWindowSeconds: z.number().int().optional(),
        /** Empty only while a captured secret is awaited (the asana handshake): nothing verifies. */
        secrets: z.array(Credential),
      })
      .refine((s) => s.verifier !== undefined || s.scheme !== undefined, 'a verifier or a scheme')
      .optional(),
    /** Senders that share no secret: pinned public keys, signing certificates, OIDC tokens. */
    identity: IdentityVerifier.optional(),
  }),
  /**
   * Every handshake answered for this trigger (none start a run): its provider's, its scheme's and
   * its own (spec.handshakes), each with what it needs.
   */
  handshakes: z
    .array(
      z.object({
        name: z.enum(HANDSHAKES),
        /** meta: the accepted verify tokens. */
        verifyTokens: z.array(Credential).optional(),
        /** cloudevents: origins allowed to deliver ("*": any); the granted rate per minute. */
        allowedOrigins: z.array(z.string()).optional(),
        allowedRate: z.number().int().optional(),
        /** asana: the signing secret is awaited; the next X-Hook-Secret is captured. */
        waiting: z.boolean().optional(),
      }),
    )
    .optional(),
  /** The trigger's provider preset: its delivery id, pings and handshakes (its verifier is above). */
  provider: z
    .object({
      name: z.string(),
      deliveryId: ValueSource.optional(),
      pings: z.array(PingMatch).optional(),
      handshakes: z.array(z.enum(HANDSHAKES)).optional(),
    })
    .optional(),
  /**
   * The trigger's published URL (status.url): what providers that sign their URL (Twilio, Square,
   * HubSpot, Trello) signed; never taken from the request's Host header.
   */
  url: z.string().optional(),
  rateLimit: WebhookTriggerSpec.shape.rateLimit.unwrap(),
  maxBodyBytes: z.number().int(),
  input: WebhookTriggerSpec.shape.input.unwrap(),
  filter: WebhookTriggerSpec.shape.filter,
  idempotency: WebhookTriggerSpec.shape.idempotency,
  response: RouteResponse,
  workflow: z.object({
    name: z.string(),
    uid: z.string(),
    spec: WorkflowSpec,
  }),
});
export type Route = z.infer<typeof RouteSchema>;

export const routePath = (namespace: string, name: string) => `/hooks/${namespace}/${name}`;
