import {
  type Credential,
  DEFAULT_REPLAY_WINDOW_SECONDS,
  type IdentityVerifier,
  identityReplayWindow,
  type Route,
  type SignatureScheme,
  schemeDeliveryId,
  signatureVerifier,
  type ValueSource,
  type Verifier,
} from '../../api/v1alpha1/index.ts';
import { verifyBearer } from './bearer.ts';
import { fail, OK, type SignatureConfig, type VerifyRequest, type VerifyResult } from './common.ts';
import { verifyBasic, verifyBodySecret, verifyUrlToken } from './credentials.ts';
import { type SignOptions, signHmac, verifyHmac } from './hmac.ts';
import { signSecret, verifySecret } from './secret.ts';

export { DEFAULT_REPLAY_WINDOW_SECONDS } from '../../api/v1alpha1/index.ts';
export {
  type SignatureConfig,
  VERIFY_REASONS,
  type VerifyReason,
  type VerifyRequest,
  type VerifyResult,
} from './common.ts';

const EMPTY = Buffer.alloc(0);

/**
 * One engine per verifier type. `verify` may answer with a Promise where it must fetch something
 * (issue 19's certificates and key sets); the symmetric ones never do, and the stage awaits only a
 * Promise, so their path stays synchronous.
 */
interface Engine<V extends Verifier> {
  verify(v: V, secrets: string[], req: VerifyRequest, now: number): VerifyResult | Promise<VerifyResult>;
  sign(v: V, secret: string, body: Buffer, now: number, options: SignOptions): Record<string, string>;
}
const engines: { [T in Verifier['type']]: Engine<Extract<Verifier, { type: T }>> } = {
  hmac: { verify: verifyHmac, sign: signHmac },
  secret: { verify: verifySecret, sign: signSecret },
};
const engine = <V extends Verifier>(v: V) => engines[v.type] as unknown as Engine<V>;

// A route written by an older operator states a scheme and its knobs: resolved once per route.
const resolved = new WeakMap<SignatureConfig, Verifier>();

/** The verifier a route's signature runs: the operator's resolution, or the same made here. */
export function verifierOf(signature: SignatureConfig): Verifier {
  if (signature.verifier) return signature.verifier;
  let v = resolved.get(signature);
  if (!v) {
    v = signatureVerifier(signature);
    resolved.set(signature, v);
  }
  return v;
}

/**
 * The values still accepted at `now`: the current credential has no `validUntil`; a previous one
 * stops at its `validUntil`, and an unreadable `validUntil` counts as expired.
 */
export function active(credentials: Credential[], now: number): string[] {
  return credentials
    .filter((c) => c.validUntil === undefined || now < Date.parse(c.validUntil))
    .map((c) => c.value);
}

/**
 * Token and signature (both required when both are set), for callers whose verifier is synchronous
 * (every symmetric one): tests and the CLI. The ingress runs the two stages apart.
 */
export function verify(auth: Route['auth'], req: VerifyRequest, now: number): VerifyResult {
  const token = verifyToken(auth, req, now);
  if (!token.ok) return token;
  const verdict = verifySignature(auth, req, now);
  if (verdict instanceof Promise) throw new Error('this verifier is asynchronous: use verifySignature');
  return verdict;
}

const configured = (auth: Route['auth']) =>
  !!(auth.tokens || auth.basic || auth.urlTokens || auth.bodySecret || auth.signature || auth.identity);

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
  // Plain checks in a row, not a list of closures: this runs for every request, junk included.
  if (auth.urlTokens) {
    const result = verifyUrlToken(active(auth.urlTokens, now), req.urlToken);
    if (!result.ok) return result;
  }
  if (auth.tokens) {
    const result = verifyBearer(active(auth.tokens, now), { headers: req.headers, body: EMPTY });
    if (!result.ok) return result;
  }
  return auth.basic ? verifyBasic(active(auth.basic, now), req) : OK;
}

/** The secret in a body field, over the parsed body (OK when the trigger has none). */
export function verifyBodyField(auth: Route['auth'], payload: unknown, now: number): VerifyResult {
  if (!auth.bodySecret) return OK;
  return verifyBodySecret(active(auth.bodySecret.secrets, now), payload, auth.bodySecret.field);
}

/** The signature over the body (OK when the trigger has none; the token is `verifyToken`'s). */
export function verifySignature(
  auth: Route['auth'],
  req: VerifyRequest,
  now: number,
): VerifyResult | Promise<VerifyResult> {
  if (!auth.signature) return OK;
  const v = verifierOf(auth.signature);
  return engine(v).verify(v, active(auth.signature.secrets, now), req, now);
}

const timed = (v: Verifier) => v.type === 'hmac' && v.timestamp !== undefined;

/**
 * How long after its receipt a verified delivery can be replayed, so how long its run must be kept
 * to answer replays as duplicates: `replayWindowSeconds` of the verifiers that sign no timestamp;
 * twice the tolerance of those that do, because a timestamp up to one tolerance in the future
 * verifies (senders' clocks run ahead too), and a replay of it verifies until one tolerance after
 * that timestamp. Undefined when nothing is signed (bearer, a secret in a header: a captured
 * request can be replayed for as long as the credential is valid).
 */
export function replayWindowSeconds(
  signature: SignatureConfig | undefined,
  identity?: IdentityVerifier,
): number | undefined {
  // An identity sender proves each delivery; its own window bounds how long a replay verifies.
  if (identity) return identityReplayWindow(identity);
  if (!signature) return undefined;
  const v = verifierOf(signature);
  if (v.type !== 'hmac') return undefined;
  if (v.timestamp) return 2 * v.timestamp.toleranceSeconds;
  return v.replayWindowSeconds ?? DEFAULT_REPLAY_WINDOW_SECONDS;
}

/** Whether a replay is refused once out of tolerance (so a sender id cannot be planted by one). */
export const isTimed = (signature: SignatureConfig | undefined) =>
  !!signature && timed(verifierOf(signature));

/** Whether the body is signed, so that a field of it may name the delivery. */
export function signsBody(signature: SignatureConfig | undefined): boolean {
  const v = signature && verifierOf(signature);
  return v?.type === 'hmac' && (v.content.includes('{body}') || v.content.includes('{form}'));
}

export type IdempotencySource = ValueSource;
const IDEMPOTENCY_KEY = { header: 'Idempotency-Key' };

/** Where a scheme's senders put the delivery id (a header, or a dot path into the JSON body). */
export const defaultIdempotency = (scheme: SignatureScheme | undefined): IdempotencySource =>
  schemeDeliveryId(scheme) ?? IDEMPOTENCY_KEY;

/** Where this route's deliveries carry their id: the trigger's choice, its provider's, its scheme's. */
export function deliveryIdSource(route: Route): IdempotencySource {
  const own = route.idempotency;
  if (own?.header) return { header: own.header };
  if (own?.field) return { field: own.field };
  return route.provider?.deliveryId ?? defaultIdempotency(route.auth.signature?.scheme);
}

/**
 * The headers a sender sets so `verify` accepts `body` at `now` (for the CLI, the demo and tests).
 * With `id`, the delivery-id header is set too (`options.deliveryId`, else the scheme's); body-field
 * ids (stripe, slack) are the caller's to put in the body.
 */
export function sign(
  signature: SignatureConfig,
  secret: string,
  body: Buffer,
  now: number,
  id?: string,
  options: Omit<SignOptions, 'id'> & { deliveryId?: ValueSource } = {},
): Record<string, string> {
  const v = verifierOf(signature);
  const headers = engine(v).sign(v, secret, body, now, { ...options, ...(id !== undefined ? { id } : {}) });
  const source = options.deliveryId ?? defaultIdempotency(signature.scheme);
  if (id !== undefined && 'header' in source && !(source.header in headers)) headers[source.header] = id;
  return headers;
}
