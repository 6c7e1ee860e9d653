import type { IncomingHttpHeaders } from 'node:http';
import {
  type Credential,
  type IdentityVerifier,
  identityReplayWindow,
  type Route,
  type SignatureScheme,
} from '../../api/v1alpha1/index.ts';
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
  hmac: hmacSha256,
};

/**
 * The values still accepted at `now`: the current credential has no `validUntil`; a previous one
 * stops at its `validUntil`, and an unreadable `validUntil` counts as expired.
 */
function active(credentials: Credential[], now: number): string[] {
  return credentials
    .filter((c) => c.validUntil === undefined || now < Date.parse(c.validUntil))
    .map((c) => c.value);
}

/** Checks a delivery against the trigger's auth; token and signature are both required when both are set. */
export function verify(auth: Route['auth'], req: VerifyRequest, now: number): VerifyResult {
  const token = verifyToken(auth, req.headers, now);
  return token.ok ? verifySignature(auth, req, now) : token;
}

/** The bearer token, from the headers alone: checked before a body is read. OK when none is required. */
export function verifyToken(auth: Route['auth'], headers: IncomingHttpHeaders, now: number): VerifyResult {
  // The API requires one of them; a route without either is a bug and must not open the trigger.
  if (!auth.tokens && !auth.signature && !auth.identity) return fail('not_configured');
  return auth.tokens ? verifyBearer(active(auth.tokens, now), { headers, body: EMPTY }) : OK;
}

/** The signature over the body (OK when the trigger has none; the token is `verifyToken`'s). */
export function verifySignature(auth: Route['auth'], req: VerifyRequest, now: number): VerifyResult {
  if (!auth.signature) return OK;
  return schemes[auth.signature.scheme ?? 'hmac-sha256'].verify(
    auth.signature,
    active(auth.signature.secrets, now),
    req,
    now,
  );
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
export function replayWindowSeconds(
  signature: SignatureConfig | undefined,
  identity?: IdentityVerifier,
): number | undefined {
  // An identity sender proves each delivery; its own window bounds how long a replay verifies.
  if (identity) return identityReplayWindow(identity);
  if (!signature || signature.scheme === 'shared-secret') return undefined;
  if (signature.scheme && TIMED.has(signature.scheme))
    return signature.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
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
  const headers = schemes[signature.scheme ?? 'hmac-sha256'].sign(signature, secret, body, now, id);
  const source = defaultIdempotency(signature.scheme);
  if (id !== undefined && 'header' in source && !(source.header in headers)) headers[source.header] = id;
  return headers;
}
