import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Route } from '../../api/v1alpha1/index.ts';

export type SignatureConfig = NonNullable<Route['auth']['signature']>;

export interface VerifyRequest {
  headers: IncomingHttpHeaders;
  /** The exact bytes received: signatures are never checked over a re-serialised body. */
  body: Buffer;
  /** The token segment of `<url>/<token>`, when the request has one. */
  urlToken?: string;
  /** Default POST. */
  method?: string;
  /** `{url}`: the trigger's published URL with the request's query string (never the Host header). */
  url?: string;
  /** The body as JSON, parsed once by the caller; default `JSON.parse` of the body. */
  json?: () => unknown;
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
  'untrusted_certificate', // a signing certificate URL or chain the provider's rules refuse
  'not_allowed', // verified, but not from an allowed source (an SNS topic, an OIDC claim)
  'invalid_audience',
  'invalid_issuer',
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
export function signedOk(parts: (Buffer | string)[]): VerifyResult {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return { ok: true, signed: h.digest('hex') };
}
export const fail = (reason: VerifyReason): VerifyResult => ({ ok: false, reason });

/** Node keeps only the first of repeated well-known headers; do the same for any array value. */
export function header(req: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
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

/** Dot path ("pull_request.base.ref", "commits.0.id") into own properties only. */
export function fieldAt(payload: unknown, path: string): unknown {
  let value = payload;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Field values compare as strings; only scalars have one. */
export const scalarText = (v: unknown) =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
