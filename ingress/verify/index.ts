import type { Credential, Route, SignatureScheme } from '../../api/v1alpha1/index.ts';
import { verifyBearer } from './bearer.ts';
import {
  DEFAULT_TOLERANCE_SECONDS,
  fail,
  OK,
  type Scheme,
  type SignatureConfig,
  type VerifyRequest,
  type VerifyResult,
} from './common.ts';
import { verifyBasic, verifyBodySecret, verifyUrlToken } from './credentials.ts';
import { github } from './github.ts';
import { hmacSha256 } from './hmac-sha256.ts';
import { sharedSecret } from './shared-secret.ts';
import { slack } from './slack.ts';
import { standardWebhooks } from './standard-webhooks.ts';
import { stripe } from './stripe.ts';
import { timestamped } from './timestamped.ts';

const EMPTY = Buffer.alloc(0);

export {
  type SignatureConfig,
  VERIFY_REASONS,
  type VerifyReason,
  type VerifyRequest,
  type VerifyResult,
} from './common.ts';

const schemes: Record<SignatureScheme, Scheme> = {
  'hmac-sha256': hmacSha256,
  timestamped,
  'standard-webhooks': standardWebhooks,
  github,
  stripe,
  slack,
  'shared-secret': sharedSecret,
};

/**
 * The values still accepted at `now`: the current credential has no `validUntil`; a previous one
 * stops at its `validUntil`, and an unreadable `validUntil` counts as expired.
 */
export function active(credentials: Credential[], now: number): string[] {
  return credentials
    .filter((c) => c.validUntil === undefined || now < Date.parse(c.validUntil))
    .map((c) => c.value);
}

/** Checks a delivery against the trigger's auth; every credential it has is required. */
export function verify(auth: Route['auth'], req: VerifyRequest, now: number): VerifyResult {
  const token = verifyToken(auth, req, now);
  return token.ok ? verifySignature(auth, req, now) : token;
}

const configured = (auth: Route['auth']) =>
  !!(auth.tokens || auth.basic || auth.urlTokens || auth.bodySecret || auth.signature);

/**
 * What is checked from the request line and headers alone, before a body is read: the bearer
 * token, HTTP Basic and the URL token. OK when the trigger has none of them.
 */
export function verifyToken(
  auth: Route['auth'],
  req: Pick<VerifyRequest, 'headers' | 'urlToken'>,
  now: number,
): VerifyResult {
  // The API requires one credential; a route without any is a bug and must not open the trigger.
  if (!configured(auth)) return fail('not_configured');
  const checks: (() => VerifyResult)[] = [
    ...(auth.urlTokens ? [() => verifyUrlToken(active(auth.urlTokens!, now), req.urlToken)] : []),
    ...(auth.tokens ? [() => verifyBearer(active(auth.tokens!, now), { ...req, body: EMPTY })] : []),
    ...(auth.basic ? [() => verifyBasic(active(auth.basic!, now), req)] : []),
  ];
  for (const check of checks) {
    const result = check();
    if (!result.ok) return result;
  }
  return OK;
}

/** The secret in a body field, over the parsed body (OK when the trigger has none). */
export function verifyBodyField(auth: Route['auth'], payload: unknown, now: number): VerifyResult {
  if (!auth.bodySecret) return OK;
  return verifyBodySecret(active(auth.bodySecret.secrets, now), payload, auth.bodySecret.field);
}

/** The signature over the body (OK when the trigger has none; the token is `verifyToken`'s). */
export function verifySignature(auth: Route['auth'], req: VerifyRequest, now: number): VerifyResult {
  if (!auth.signature) return OK;
  return schemes[auth.signature.scheme].verify(auth.signature, active(auth.signature.secrets, now), req, now);
}

/** Schemes whose signature covers a timestamp: a replay is refused once it is out of tolerance. */
const TIMED = new Set<SignatureScheme>(['timestamped', 'standard-webhooks', 'stripe', 'slack']);
export const DEFAULT_REPLAY_WINDOW_SECONDS = 3600;

/**
 * How long a verified delivery can be replayed, so how long its run must be kept to answer replays
 * as duplicates: the timestamp tolerance of timestamped schemes, `replayWindowSeconds` of the
 * others that sign; undefined when nothing is signed (bearer, shared-secret: a captured request
 * can be replayed for as long as the credential is valid).
 */
export function replayWindowSeconds(signature: SignatureConfig | undefined): number | undefined {
  if (!signature || signature.scheme === 'shared-secret') return undefined;
  if (TIMED.has(signature.scheme)) return signature.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  return signature.replayWindowSeconds ?? DEFAULT_REPLAY_WINDOW_SECONDS;
}

export type IdempotencySource = { header: string } | { field: string };

/** Where a scheme's senders put the delivery id (a header, or a dot path into the JSON body). */
export function defaultIdempotency(scheme: SignatureScheme | undefined): IdempotencySource {
  switch (scheme) {
    case 'standard-webhooks':
      return { header: 'webhook-id' };
    case 'github':
      return { header: 'X-GitHub-Delivery' };
    case 'stripe':
      return { field: 'id' };
    case 'slack':
      return { field: 'event_id' };
    default:
      return { header: 'Idempotency-Key' };
  }
}

/**
 * The headers a sender sets so `verify` accepts `body` at `now` (for the CLI, the demo and tests).
 * With `id`, the scheme's delivery-id header is set too; body-field ids (stripe, slack) are the
 * caller's to put in the body.
 */
export function sign(
  signature: SignatureConfig,
  secret: string,
  body: Buffer,
  now: number,
  id?: string,
): Record<string, string> {
  const headers = schemes[signature.scheme].sign(signature, secret, body, now, id);
  const source = defaultIdempotency(signature.scheme);
  if (id !== undefined && 'header' in source && !(source.header in headers)) headers[source.header] = id;
  return headers;
}
