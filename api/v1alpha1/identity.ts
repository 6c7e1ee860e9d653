import { z } from 'zod';
import { SecretKeyRef, withRules } from './common.ts';

// Senders that share no secret with hookgate (issue 19): they sign with a private key whose public
// half the trigger pins, sign with an X.509 certificate they name (AWS SNS, PayPal), or send an
// OIDC token from an identity provider. What the trigger states (spec) and what its Route carries
// (the identity verifier the ingress runs) live here.

export const PublicKeyFormat = z.enum(['discord', 'sendgrid', 'standard-webhooks-v1a']);
export type PublicKeyFormat = z.infer<typeof PublicKeyFormat>;
export const KEY_ALGORITHM: Record<PublicKeyFormat, 'ed25519' | 'ecdsa-p256'> = {
  discord: 'ed25519',
  sendgrid: 'ecdsa-p256',
  'standard-webhooks-v1a': 'ed25519',
};

// --- the trigger's spec ---

export const PublicKey = withRules(
  z
    .object({
      value: z
        .string()
        .min(1)
        .max(4096)
        .optional()
        .describe(
          'The public key: hex (Discord), base64 or base64 DER (SendGrid), whpk_... (Standard Webhooks), or PEM.',
        ),
      secretRef: SecretKeyRef.optional().describe('A Secret key holding the public key instead.'),
    })
    .strict(),
  {
    rule: 'has(self.value) != has(self.secretRef)',
    message: 'set value or secretRef',
    check: (k) => (k.value === undefined) !== (k.secretRef === undefined),
  },
);

export const PublicKeys = z
  .array(PublicKey)
  .min(1)
  .max(2)
  .describe(
    "The sender's public keys (providers discord, sendgrid, standard-webhooks-v1a). Two during a key rotation: a delivery signed by either verifies.",
  );

const TOPIC_ARN = /^arn:aws(?:-cn|-us-gov)?:sns:[a-z0-9-]{1,32}:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/;

export const SnsAuth = z
  .object({
    topicArns: z
      .array(z.string().max(400).regex(TOPIC_ARN, 'must be an SNS topic ARN'))
      .min(1)
      .max(32)
      .describe(
        'The topics this trigger accepts (required): messages of any other topic are refused 401 before anything is fetched.',
      ),
    confirmSubscriptions: z
      .boolean()
      .default(true)
      .describe(
        "Confirm a SubscriptionConfirmation of an allowed topic by fetching its SubscribeURL (on SNS's own host); false: leave it unconfirmed (answered 200, shown in status).",
      ),
  })
  .strict();

export const PaypalAuth = z
  .object({
    webhookId: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/)
      .describe("The webhook's ID in PayPal's developer dashboard: PayPal signs it into every delivery."),
  })
  .strict();

export const ClaimValue = z
  .object({
    claim: z
      .string()
      .min(1)
      .max(128)
      .describe('A top-level claim of the token, e.g. repository, email, tid.'),
    value: z.string().max(1024).describe('The value it must have, exactly.'),
  })
  .strict();

export const ClaimRule = z
  .object({
    expression: z
      .string()
      .min(1)
      .max(1024)
      .describe(
        'CEL over `claims` that must be true, e.g. claims.ref.startsWith("refs/heads/"). At most one comprehension (all, exists, map, filter).',
      ),
    message: z.string().min(1).max(256).describe('Why a token failing it is refused (for status and logs).'),
  })
  .strict();

export const OidcAuth = z
  .object({
    issuer: z
      .string()
      .max(512)
      .regex(/^https:\/\/[a-z0-9.-]+(?:\/[A-Za-z0-9._~/-]*)?$/, 'must be an https URL with a host name')
      .optional()
      .describe(
        "The token's `iss` (required unless the provider fixes it; Microsoft Entra: https://login.microsoftonline.com/<tenant>/v2.0).",
      ),
    audiences: z
      .array(z.string().min(1).max(512))
      .min(1)
      .max(8)
      .describe(
        "Accepted `aud` values (Pub/Sub: the push subscription's audience; GitHub Actions: the audience the workflow requests).",
      ),
    claims: z.array(ClaimValue).max(16).optional().describe('Claims that must have exactly these values.'),
    claimValidationRules: z
      .array(ClaimRule)
      .max(8)
      .optional()
      .describe('CEL conditions on the claims, as in Kubernetes structured authentication configuration.'),
    jwks: z
      .object({ secretRef: SecretKeyRef.describe('The Secret key holding the JWKS.') })
      .strict()
      .optional()
      .describe(
        "A JWKS (JSON) pinned in a Secret, for clusters without egress: the issuer's keys are then never fetched.",
      ),
    clockSkewSeconds: z
      .number()
      .int()
      .min(0)
      .max(300)
      .optional()
      .describe('Allowed clock skew for exp, nbf and iat (default 60).'),
    maxTokenSeconds: z
      .number()
      .int()
      .min(60)
      .max(86400)
      .optional()
      .describe(
        'Tokens valid for longer from now are refused (default 3600); also how long a replay is answered as a duplicate.',
      ),
  })
  .strict();
export type OidcAuth = z.infer<typeof OidcAuth>;

// --- what the Route carries ---

const Tolerance = z.number().int();

export const IdentityVerifier = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('public-key'),
      format: PublicKeyFormat,
      keys: z.array(z.string()).min(1).max(2),
      toleranceSeconds: Tolerance,
    })
    .strict(),
  z
    .object({
      type: z.literal('aws-sns'),
      topics: z.array(z.string()).min(1),
      confirm: z.boolean(),
      toleranceSeconds: Tolerance,
    })
    .strict(),
  z.object({ type: z.literal('paypal'), webhookId: z.string(), toleranceSeconds: Tolerance }).strict(),
  z
    .object({
      type: z.literal('oidc'),
      issuer: z.string(),
      audiences: z.array(z.string()).min(1),
      claims: z.array(ClaimValue).optional(),
      rules: z.array(ClaimRule).optional(),
      /** The pinned JWKS's JSON text. */
      jwks: z.string().optional(),
      /** Where the keys are when not named by the issuer's discovery document on its own host. */
      jwksUri: z.string().optional(),
      clockSkewSeconds: z.number().int().optional(),
      maxTokenSeconds: z.number().int().optional(),
    })
    .strict(),
]);
export type IdentityVerifier = z.infer<typeof IdentityVerifier>;

export const DEFAULT_IDENTITY_TOLERANCE: Record<IdentityVerifier['type'], number> = {
  'public-key': 300,
  // SNS retries a delivery with its original signature and Timestamp, for up to an hour by default.
  'aws-sns': 3600,
  paypal: 300,
  oidc: 3600,
};

/** How long a replay of a verified delivery can verify, so how long its run must be kept. */
export function identityReplayWindow(v: IdentityVerifier): number {
  if (v.type === 'oidc') return (v.maxTokenSeconds ?? 3600) + (v.clockSkewSeconds ?? 60);
  return v.toleranceSeconds;
}
