import type { KeyObject } from 'node:crypto';
import { DEFAULT_TOLERANCE_SECONDS } from '../../api/v1alpha1/index.ts';
import { ecdsaSignedByAny, ed25519SignedByAny, strictBase64, strictHex } from '../../lib/public-key.ts';
import { fail, header, signedOk, type VerifyRequest, type VerifyResult } from './common.ts';
import { parseTimestamp } from './decode.ts';

/**
 * Senders that sign with a private key: the trigger pins their public keys (two during a rotation),
 * so nothing secret is compared here and a leaked route reveals nothing. Each returns the signed
 * message's hash as the delivery's identity, as the HMAC schemes do.
 */
export interface PublicKeyCheck {
  keys: KeyObject[];
  req: VerifyRequest;
  now: number;
  toleranceSeconds?: number;
}

function timed(
  ts: string | undefined,
  sig: string | undefined,
  check: PublicKeyCheck,
  verified: (ts: string) => boolean,
): VerifyResult {
  if (ts === undefined || sig === undefined) return fail('missing_signature');
  const at = parseTimestamp(ts, 'seconds');
  if (at === undefined) return fail('malformed_signature');
  if (!verified(ts)) return fail('invalid_signature');
  const tolerance = check.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  return Math.abs(check.now - at) <= tolerance * 1000
    ? signedOk([ts, check.req.body])
    : fail('timestamp_out_of_tolerance');
}

/** Discord: Ed25519 (hex) over `timestamp + body` in X-Signature-Ed25519 / X-Signature-Timestamp. */
export function verifyDiscord(check: PublicKeyCheck): VerifyResult {
  const sig = header(check.req, 'x-signature-ed25519');
  const bytes = sig === undefined ? undefined : strictHex(sig);
  if (sig !== undefined && bytes?.length !== 64) return fail('malformed_signature');
  return timed(header(check.req, 'x-signature-timestamp'), sig, check, (ts) =>
    ed25519SignedByAny(check.keys, Buffer.concat([Buffer.from(ts), check.req.body]), bytes!),
  );
}

/** SendGrid Event Webhook: ECDSA P-256/SHA-256, base64 DER, over `timestamp + body`. */
export function verifySendgrid(check: PublicKeyCheck): VerifyResult {
  const sig = header(check.req, 'x-twilio-email-event-webhook-signature');
  const bytes = sig === undefined ? undefined : strictBase64(sig);
  if (sig !== undefined && bytes === undefined) return fail('malformed_signature');
  return timed(header(check.req, 'x-twilio-email-event-webhook-timestamp'), sig, check, (ts) =>
    ecdsaSignedByAny(check.keys, Buffer.concat([Buffer.from(ts), check.req.body]), bytes!),
  );
}

/**
 * Standard Webhooks `v1a`: Ed25519 (base64) over `<id>.<ts>.<body>`, among the space-separated
 * entries of webhook-signature; other versions (v1, HMAC) beside it are not this check's to judge.
 * The signed id is the delivery's identity, as for `v1`.
 */
export function verifyStandardV1a(check: PublicKeyCheck): VerifyResult {
  const id = header(check.req, 'webhook-id');
  const value = header(check.req, 'webhook-signature');
  if (id === undefined || value === undefined) return fail('missing_signature');
  const candidates = value
    .split(' ')
    .flatMap((entry) => (entry.startsWith('v1a,') ? (strictBase64(entry.slice(4)) ?? []) : []))
    .filter((sig) => sig.length === 64);
  if (candidates.length === 0) return fail('malformed_signature');
  const verdict = timed(header(check.req, 'webhook-timestamp'), value, check, (ts) => {
    const message = Buffer.concat([Buffer.from(`${id}.${ts}.`), check.req.body]);
    return candidates.some((sig) => ed25519SignedByAny(check.keys, message, sig));
  });
  return verdict.ok ? { ok: true, signed: id } : verdict;
}
