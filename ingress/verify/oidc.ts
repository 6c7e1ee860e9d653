import { createHash } from 'node:crypto';
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import { type ClaimRule, type ClaimValue, failedCondition } from '../../lib/claims.ts';
import { BoundedCache } from '../outbound/cache.ts';
import type { Outbound } from '../outbound/client.ts';
import { allowedUrl, type HostRule, issuerHosts } from '../outbound/url.ts';
import { fail, header, type VerifyRequest, type VerifyResult } from './common.ts';

/**
 * OIDC callers (Google Pub/Sub push and Eventarc, GitHub Actions, Microsoft Entra): a JWT in
 * `Authorization: Bearer`, signed by the issuer's key. Only asymmetric algorithms: `none` and the
 * HMAC family are refused (an HMAC "key" from a public JWKS would be public).
 */
export const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
export const DEFAULT_SKEW_SECONDS = 60;
/** Tokens living longer than this are refused, so a run's replay record outlives every token it saw. */
export const DEFAULT_MAX_TOKEN_SECONDS = 3600;
const MAX_TOKEN = 16 * 1024;

export interface OidcConfig {
  issuer: string;
  audiences: string[];
  claims?: ClaimValue[];
  rules?: ClaimRule[];
  /** A JWKS pinned in a Secret or ConfigMap (clusters without egress): no discovery. */
  jwks?: JSONWebKeySet;
  /** Where the keys are when not on the issuer's own host (Google's are at www.googleapis.com). */
  jwksUri?: string;
  clockSkewSeconds?: number;
  maxTokenSeconds?: number;
}

/**
 * Discovered key sets by URL: refetched after their TTL, and on a `kid` they do not have (a
 * rotation), but at most once a minute per URL, so tokens with random kids cost one call a minute.
 */
export class JwksStore {
  private readonly sets: BoundedCache<{ jwks: JSONWebKeySet; fetched: number }>;
  private readonly uris: BoundedCache<string>;
  private static readonly REFRESH_MS = 60_000;

  constructor(
    private readonly outbound: Outbound,
    private readonly clock: () => number = Date.now,
  ) {
    const bounds = { maxEntries: 64, maxBytes: 2 * 1024 * 1024, ttlMs: 3_600_000, clock };
    this.sets = new BoundedCache({ ...bounds, size: (v) => JSON.stringify(v.jwks).length });
    this.uris = new BoundedCache({ ...bounds, size: (v) => v.length });
  }

  /** The JWKS URL: configured, or from the issuer's discovery document and on the issuer's host. */
  private async jwksUri(config: OidcConfig): Promise<{ url: string; rule: HostRule }> {
    if (config.jwksUri) return { url: config.jwksUri, rule: issuerHosts(config.jwksUri) };
    const rule = issuerHosts(config.issuer);
    const discovery = `${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const url = await this.uris.getOrLoad(discovery, async () => {
      const doc = parseJson(await this.outbound.get(discovery, rule)) as { jwks_uri?: unknown };
      if (typeof doc.jwks_uri !== 'string') throw new KeySetError('the discovery document names no jwks_uri');
      try {
        allowedUrl(doc.jwks_uri, rule); // the issuer's keys live on the issuer's host
      } catch {
        throw new KeySetError('the discovery document names a jwks_uri off the issuer host');
      }
      return doc.jwks_uri;
    });
    return { url, rule };
  }

  async keys(config: OidcConfig, kid: string | undefined): Promise<JSONWebKeySet> {
    const { url, rule } = await this.jwksUri(config);
    const load = async () => {
      const jwks = parseJson(await this.outbound.get(url, rule)) as JSONWebKeySet;
      if (!Array.isArray(jwks?.keys)) throw new KeySetError('not a JWKS');
      return { jwks, fetched: this.clock() };
    };
    const cached = await this.sets.getOrLoad(url, load);
    const known = kid === undefined || cached.jwks.keys.some((k) => k.kid === kid);
    if (known || this.clock() - cached.fetched < JwksStore.REFRESH_MS) return cached.jwks;
    this.sets.delete(url);
    return (await this.sets.getOrLoad(url, load)).jwks;
  }
}

/** A discovery document or key set that is not what it should be: the issuer's fault, so 503. */
export class KeySetError extends Error {}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new KeySetError('not JSON');
  }
}

function bearer(req: VerifyRequest): string | undefined {
  const value = header(req, 'authorization');
  const match =
    value === undefined ? null : /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(value);
  return match && match[1]!.length <= MAX_TOKEN ? match[1] : undefined;
}

function refusal(err: unknown): VerifyResult {
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return fail('invalid_audience');
    if (err.claim === 'iss') return fail('invalid_issuer');
    if (err.claim === 'nbf' || err.claim === 'iat') return fail('timestamp_out_of_tolerance');
  }
  if (err instanceof errors.JWTExpired) return fail('timestamp_out_of_tolerance');
  if (err instanceof errors.JOSEError) return fail('invalid_token');
  throw err; // outbound and key set failures: 503
}

/**
 * The verdict on the token of a delivery. Its identity is the token's `jti` (else the token's
 * hash) with the body's hash: a verbatim replay is the same delivery, while a sender that reuses
 * one token for several messages (Pub/Sub caches them for up to an hour) gets a run for each.
 * Throws OutboundError or KeySetError when the keys cannot be had (the caller answers 503).
 */
export async function verifyOidc(
  req: VerifyRequest,
  config: OidcConfig,
  store: JwksStore,
  now: number,
): Promise<VerifyResult & { claims?: JWTPayload }> {
  const token = bearer(req);
  if (!token) return fail('missing_token');
  const skew = config.clockSkewSeconds ?? DEFAULT_SKEW_SECONDS;
  let payload: JWTPayload;
  try {
    const jwks = config.jwks ?? (await store.keys(config, kidOf(token)));
    ({ payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: config.issuer,
      audience: config.audiences,
      algorithms: ALGORITHMS,
      clockTolerance: skew,
      currentDate: new Date(now),
      requiredClaims: ['exp', 'iat'],
    }));
  } catch (err) {
    return refusal(err);
  }
  const nowS = now / 1000;
  if (payload.iat! > nowS + skew) return fail('timestamp_out_of_tolerance');
  if (payload.exp! - nowS > (config.maxTokenSeconds ?? DEFAULT_MAX_TOKEN_SECONDS) + skew)
    return fail('timestamp_out_of_tolerance');
  if (failedCondition(payload, config.claims, config.rules) !== undefined) return fail('not_allowed');
  const id =
    typeof payload.jti === 'string' ? `jti:${payload.jti}` : createHash('sha256').update(token).digest('hex');
  const signed = createHash('sha256').update(`${config.issuer}\n${id}\n`).update(req.body).digest('hex');
  return { ok: true, signed, claims: payload };
}

function kidOf(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'));
    return typeof header?.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}
