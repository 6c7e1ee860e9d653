import {
  decodeDigest,
  fail,
  header,
  hmac,
  parseTimestamp,
  parseTimestampedHeader,
  type Scheme,
  signedByAny,
  signedOk,
  type VerifyResult,
  withinTolerance,
} from './common.ts';

/** `t=<ts>,v1=<hex>[,v1=<hex>...]` over "<t>.<body>" (reference 001 uses milliseconds). */
const DEFAULT_HEADER = 'X-Webhook-Signature';

/** Shared with the Stripe scheme, which is this layout in seconds with a fixed header. */
export function verifyTimestampedHeader(
  value: string | undefined,
  unitMs: number,
  toleranceSeconds: number | undefined,
  secrets: string[],
  body: Buffer,
  now: number,
): VerifyResult {
  if (value === undefined) return fail('missing_signature');
  const parsed = parseTimestampedHeader(value, 'v1');
  const timestamp = parseTimestamp(parsed?.timestamp);
  // Several v1 entries let a sender sign with old and new secrets during its own rotation.
  const candidates = (parsed?.signatures ?? []).flatMap((s) => decodeDigest(s, 'hex') ?? []);
  if (!parsed || timestamp === undefined || candidates.length === 0) return fail('malformed_signature');
  // Signature before time, so timestamp_out_of_tolerance only ever describes a genuine (replayed
  // or skewed) delivery.
  if (!signedByAny(secrets, candidates, `${parsed.timestamp}.`, body)) return fail('invalid_signature');
  return withinTolerance(timestamp * unitMs, now, toleranceSeconds)
    ? signedOk(`${parsed.timestamp}.`, body)
    : fail('timestamp_out_of_tolerance');
}

export function timestampedHeader(secret: string, body: Buffer, timestamp: number): string {
  return `t=${timestamp},v1=${hmac(secret, `${timestamp}.`, body).toString('hex')}`;
}

const unitMs = (unit: 'seconds' | 'milliseconds' | undefined) => (unit === 'milliseconds' ? 1 : 1000);

export const timestamped: Scheme = {
  verify(sig, secrets, req, now) {
    const value = header(req, sig.header ?? DEFAULT_HEADER);
    return verifyTimestampedHeader(
      value,
      unitMs(sig.timestampUnit),
      sig.toleranceSeconds,
      secrets,
      req.body,
      now,
    );
  },
  sign(sig, secret, body, now) {
    const timestamp = Math.floor(now / unitMs(sig.timestampUnit));
    return { [sig.header ?? DEFAULT_HEADER]: timestampedHeader(secret, body, timestamp) };
  },
};
