import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { checkVerifyToken, trustOf } from '../handshakes/index.ts';
import { HttpError, unauthorized } from '../http/errors.ts';
import { type Exchange, exchangeOf } from '../http/exchange.ts';
import { type VerifyRequest, type VerifyResult, verifyBodyField, verifySignature } from '../verify/index.ts';
import type { StageContext } from './context.ts';
import { payloadOf } from './payload.ts';

const EMPTY = Buffer.alloc(0);

/**
 * What the request must prove beyond its head: for a delivery or a handshake its provider signs,
 * the signature over the exact bytes received and a body-field secret; for Meta's handshake, its
 * verify token. Undefined for a handshake that proves nothing (answered because the trigger
 * declares it; it stays unverified).
 */
function proof(
  request: FastifyRequest,
  x: Exchange,
  now: number,
): VerifyResult | Promise<VerifyResult> | undefined {
  const route = x.route!;
  const trust = x.handshake ? trustOf(x.handshake) : 'verified';
  if (trust === 'verifyToken') {
    const query = request.query as Record<string, unknown>;
    return checkVerifyToken(x.handshake!, { method: request.method, headers: request.headers, query }, now);
  }
  if (trust !== 'verified') return undefined;
  const withBodySecret = (verdict: VerifyResult): VerifyResult => {
    if (!verdict.ok || x.handshake || !route.auth.bodySecret) return verdict;
    const field = verifyBodyField(route.auth, payloadOf(request), now);
    return field.ok ? verdict : field;
  };
  // Only an asynchronous verifier (issue 19's) is awaited: the symmetric path stays synchronous.
  const verdict = verifySignature(route.auth, verifyRequest(request), now);
  return verdict instanceof Promise ? verdict.then(withBodySecret) : withBodySecret(verdict);
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
      const route = x.route!;
      const now = clock();
      let verdict = proof(request, x, now);
      if (verdict instanceof Promise) verdict = await verdict;
      if (!verdict) return;
      if (!verdict.ok) {
        metrics.verificationFailed(route, verdict.reason);
        throw unauthorized(route.auth, verdict.reason);
      }
      x.verified = true;
      x.signed = verdict.signed;
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
