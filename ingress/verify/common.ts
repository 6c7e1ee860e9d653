import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Route } from '../../api/v1alpha1/index.ts';

export type SignatureConfig = NonNullable<Route['auth']['signature']>;

export interface VerifyRequest {
  headers: IncomingHttpHeaders;
  /** The exact bytes received: signatures are never checked over a re-serialised body. */
  body: Buffer;
  /** The token segment of `<url>/<token>`, when the request has one. */
  urlToken?: string;
}

/**
 * Why a delivery was refused. A closed set, so it is safe as a metrics label and in an error body.
 * For `shared-secret` the "signature" is the secret header itself.
 */
export const VERIFY_REASONS = [
  'missing_token',
  'invalid_token',
  'missing_basic_auth',
  'invalid_basic_auth',
  'missing_url_token',
  'invalid_url_token',
  'missing_body_secret',
  'invalid_body_secret',
  'missing_verify_token',
  'invalid_verify_token',
  'missing_signature',
  'malformed_signature',
  'invalid_signature',
  'timestamp_out_of_tolerance',
  'not_configured',
] as const;
export type VerifyReason = (typeof VERIFY_REASONS)[number];

/**
 * `signed`: on success, what the sender signed that identifies the delivery (a hash of the signed
 * message, or a signed id); absent when nothing is signed (bearer tokens, shared secrets).
 */
export type VerifyResult = { ok: true; signed?: string } | { ok: false; reason: VerifyReason };

export const OK: VerifyResult = { ok: true };

/**
 * Success, naming the delivery by the SHA-256 of the signed message. The message rather than the
 * signature: a sender that signs with two secrets (its own rotation) sends several valid
 * signatures, and dropping one must not make a replay look new.
 */
export function signedOk(...parts: (Buffer | string)[]): VerifyResult {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return { ok: true, signed: h.digest('hex') };
}
export const fail = (reason: VerifyReason): VerifyResult => ({ ok: false, reason });

export interface Scheme {
  /** `secrets`: the credential values still valid at `now` (rotation already applied). */
  verify(sig: SignatureConfig, secrets: string[], req: VerifyRequest, now: number): VerifyResult;
  sign(sig: SignatureConfig, secret: string, body: Buffer, now: number, id?: string): Record<string, string>;
}

export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Node keeps only the first of repeated well-known headers; do the same for any array value. */
export function header(req: Pick<VerifyRequest, 'headers'>, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export function hmac(key: Buffer | string, ...parts: (Buffer | string)[]): Buffer {
  const h = createHmac('sha256', key);
  for (const part of parts) h.update(part);
  return h.digest();
}

/** Constant time for equal lengths; callers only pass fixed-length digests, so length leaks nothing. */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Secrets of any length compared through their SHA-256, so neither content nor length leaks. */
export function secretsEqual(given: string, expected: string): boolean {
  const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return digestsEqual(sha(given), sha(expected));
}

const HEX_DIGEST = /^[0-9a-fA-F]{64}$/;
const BASE64_DIGEST = /^[A-Za-z0-9+/]{43}=?$/;

/** A 32-byte SHA-256 digest as text, strictly: Buffer.from silently drops what it cannot decode. */
export function decodeDigest(text: string, encoding: 'hex' | 'base64'): Buffer | undefined {
  return (encoding === 'hex' ? HEX_DIGEST : BASE64_DIGEST).test(text)
    ? Buffer.from(text, encoding)
    : undefined;
}

/** True when any key signs `parts` to any of the candidate digests. */
export function signedByAny(
  keys: (Buffer | string)[],
  candidates: Buffer[],
  ...parts: (Buffer | string)[]
): boolean {
  return keys.some((key) => {
    const expected = hmac(key, ...parts);
    return candidates.some((candidate) => digestsEqual(expected, candidate));
  });
}

/** A non-negative integer timestamp as sent; the signed text uses the string, not a re-formatted number. */
export function parseTimestamp(text: string | undefined): number | undefined {
  return text !== undefined && /^\d{1,16}$/.test(text) ? Number(text) : undefined;
}

/** Stale and future timestamps alike: a replay window in both directions. */
export function withinTolerance(timestampMs: number, now: number, toleranceSeconds?: number): boolean {
  return Math.abs(now - timestampMs) <= (toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS) * 1000;
}

/**
 * Parses `t=<ts>,v1=<sig>[,v1=<sig>...]` (Stripe's layout) into the single timestamp and all values of
 * `scheme`. Other keys (e.g. Stripe's `v0`) are ignored; a repeated `t` is ambiguous and refused.
 */
export function parseTimestampedHeader(
  text: string,
  scheme: string,
): { timestamp: string; signatures: string[] } | undefined {
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const item of text.split(',')) {
    const eq = item.indexOf('=');
    if (eq < 0) continue;
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined) return undefined;
      timestamp = value;
    } else if (key === scheme) {
      signatures.push(value);
    }
  }
  return timestamp === undefined ? undefined : { timestamp, signatures };
}
