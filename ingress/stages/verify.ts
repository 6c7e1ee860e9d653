import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { IdentityVerifier } from '../../api/v1alpha1/index.ts';
import { checkVerifyToken, trustOf } from '../handshakes/index.ts';
import { HttpError, unauthorized } from '../http/errors.ts';
import { type Exchange, exchangeOf } from '../http/exchange.ts';
import type { IdentityVerdict } from '../verify/identity.ts';
import { type VerifyRequest, type VerifyResult, verifyBodyField, verifySignature } from '../verify/index.ts';
import type { StageContext } from './context.ts';
import { payloadOf } from './payload.ts';

const EMPTY = Buffer.alloc(0);

/** How long a sender should wait after its certificate, key set or issuer could not be reached. */
const RETRY_AFTER_OUTBOUND = 30;

/**
 * An identity sender's verdict. Whatever fails on our side of the proof (a certificate host, JWKS
 * or SubscribeURL that cannot be reached, a key set that is not one) is 503 with Retry-After: the
 * sender retries and nothing is run.
 */
async function verifyIdentity(
  ctx: StageContext,
  identity: IdentityVerifier,
  req: VerifyRequest,
  now: number,
): Promise<IdentityVerdict> {
  try {
    return await ctx.identities.verify(identity, req, now);
  } catch {
    throw new HttpError(
      503,
      'sender_unreachable',
      "the sender's keys or certificate cannot be fetched right now; retry later",
      { 'retry-after': RETRY_AFTER_OUTBOUND },
    );
  }
}

/**
 * What the request must prove beyond its head: for a delivery or a handshake its provider signs,
 * the signature over the exact bytes received and a body-field secret; for Meta's handshake, its
 * verify token. Undefined for a handshake that proves nothing (answered because the trigger
 * declares it; it stays unverified).
 */
function proof(
  ctx: StageContext,
  request: FastifyRequest,
  x: Exchange,
  now: number,
): IdentityVerdict | Promise<IdentityVerdict> | undefined {
  const route = x.route!;
  const trust = x.handshake ? trustOf(x.handshake) : 'verified';
  if (trust === 'verifyToken') {
    const query = request.query as Record<string, unknown>;
    return checkVerifyToken(x.handshake!, { method: request.method, headers: request.headers, query }, now);
  }
  if (trust !== 'verified') return undefined;
  const req = verifyRequest(request);
  const rest = (verdict: VerifyResult): IdentityVerdict | Promise<IdentityVerdict> => {
    if (!verdict.ok || x.handshake) return verdict;
    if (route.auth.identity) return verifyIdentity(ctx, route.auth.identity, req, now);
    if (!route.auth.bodySecret) return verdict;
    const field = verifyBodyField(route.auth, payloadOf(request), now);
    return field.ok ? verdict : field;
  };
  // Only an asynchronous verifier is awaited: the symmetric path stays synchronous.
  const verdict = verifySignature(route.auth, req, now);
  return verdict instanceof Promise ? verdict.then(rest) : rest(verdict);
}

/**
 * Stage 3: the signature over the exact bytes received (the token was checked on admission). Only
 * a verified request spends the trigger's rate limit (per client address), so junk never uses up
 * the budget of real senders.
 */
export const verifyStage = fp(
  async (app: FastifyInstance, ctx: StageContext) => {
    const { clock, limiter, share, metrics } = ctx;
    app.addHook('preHandler', async (request, reply) => {
      const x = exchangeOf(request);
      x.trace?.stage('verify');
      const route = x.route!;
      const now = clock();
      let verdict = proof(ctx, request, x, now);
      if (verdict instanceof Promise) verdict = await verdict;
      if (!verdict) return;
      if (!verdict.ok) {
        x.reason = verdict.reason;
        metrics.verificationFailed(route, verdict.reason);
        throw unauthorized(route.auth, verdict.reason);
      }
      x.verified = true;
      x.signed = verdict.signed;
      if (verdict.sns) ctx.recordSns?.(route, verdict.sns);
      // A verified control message (Discord's PING, an SNS subscription) is answered, never run.
      if (verdict.answer) {
        x.outcome = verdict.sns ? 'subscription' : 'ping';
        if (!verdict.sns) ctx.recordHandshake?.(route, 'ping');
        return reply.code(verdict.answer.status).send(verdict.answer.body);
      }
      // With N replicas behind an even load balancer each sees about 1/N of a client's deliveries,
      // so each enforces its share and the headers speak for the whole (an estimate: the limit,
      // and what is left here scaled back up).
      const { requests, periodSeconds } = route.rateLimit;
      const mine = share(requests);
      const rate = limiter.take(
        `${route.namespace}/${route.name}|${x.client}`,
        { requests: mine, periodSeconds },
        now,
      );
      const remaining = mine > 0 ? Math.min(requests, Math.floor((rate.remaining * requests) / mine)) : 0;
      reply.headers({
        'ratelimit-limit': requests,
        'ratelimit-remaining': remaining,
        'ratelimit-reset': rate.resetSeconds,
      });
      if (!rate.allowed) {
        metrics.rateLimited(route);
        throw new HttpError(429, 'rate_limited', 'too many requests; retry later', {
          'retry-after': rate.retryAfterSeconds ?? rate.resetSeconds,
        });
      }
    });
  },
  { name: 'hookgate-verify' },
);

/**
 * What the verifier may read besides headers and bytes: the method, the trigger's published URL
 * with this request's query string (`{url}`), and the body parsed once, kept for later stages.
 */
export function verifyRequest(request: FastifyRequest): VerifyRequest {
  const route = exchangeOf(request).route!;
  const rawUrl = request.raw.url;
  const query = rawUrl?.indexOf('?') ?? -1;
  return {
    headers: request.headers,
    body: (request.body as Buffer | undefined) ?? EMPTY,
    method: request.method,
    ...(route.url !== undefined ? { url: route.url + (query >= 0 ? rawUrl!.slice(query) : '') } : {}),
    json: () => payloadOf(request),
  };
}
