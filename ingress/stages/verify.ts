import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { IdentityVerifier } from '../../api/v1alpha1/index.ts';
import { BEARER_CHALLENGE, HttpError } from '../http/errors.ts';
import { type Exchange, exchangeOf } from '../http/exchange.ts';
import { bodyKind, parseBody } from '../input.ts';
import type { IdentityVerdict } from '../verify/identity.ts';
import { type VerifyRequest, verifySignature } from '../verify/index.ts';
import type { StageContext } from './context.ts';

const EMPTY = Buffer.alloc(0);

/** How long a sender should wait after its certificate, key set or issuer could not be reached. */
const RETRY_AFTER_OUTBOUND = 30;

/**
 * An identity sender's verdict. Whatever fails on our side of the proof (a certificate host, JWKS
 * or SubscribeURL that cannot be reached, a key set that is not one) is 503 with Retry-After:
 * the sender retries, nothing is run, and the failure is not the sender's (it does not count
 * towards the flood guard's verdict on its address either way: it is unverified).
 */
async function verifyIdentity(
  ctx: StageContext,
  identity: IdentityVerifier,
  req: VerifyRequest,
  now: number,
): Promise<IdentityVerdict> {
  try {
    return await ctx.identities.verify(identity, req, now);
  } catch (err) {
    throw new HttpError(
      503,
      'sender_unreachable',
      `the sender's keys or certificate cannot be fetched right now; retry later`,
      {
        'retry-after': RETRY_AFTER_OUTBOUND,
      },
    );
  }
}

/**
 * Stage 3: the signature over the exact bytes received (the token was checked on admission). Only
 * a verified delivery spends the trigger's rate limit (per client address), so junk never uses up
 * the budget of real senders, and only a verified delivery that is let through counts as a use.
 */
export const verifyStage = fp(
  async (app: FastifyInstance, ctx: StageContext) => {
    const { clock, limiter, share, metrics, recordUse } = ctx;
    app.addHook('preHandler', async (request, reply) => {
      const x = exchangeOf(request);
      const route = x.route!;
      const now = clock();
      const body = (request.body as Buffer | undefined) ?? EMPTY;
      const req = verifyRequest(x, request.headers, body, request.method, request.raw.url);
      const signed = verifySignature(route.auth, req, now);
      let verdict: IdentityVerdict = signed instanceof Promise ? await signed : signed;
      if (verdict.ok && route.auth.identity)
        verdict = await verifyIdentity(ctx, route.auth.identity, req, now);
      if (!verdict.ok) {
        metrics.verificationFailed(route, verdict.reason);
        const challenge = route.auth.tokens ? BEARER_CHALLENGE : {};
        throw new HttpError(401, 'unauthorized', `verification failed: ${verdict.reason}`, challenge);
      }
      x.verified = true;
      x.signed = verdict.signed;
      if (verdict.sns) ctx.recordSns?.(route, verdict.sns);
      // A verified control message (Discord's PING, an SNS subscription) is answered, never run.
      if (verdict.answer) {
        x.outcome = 'challenge';
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
      recordUse?.(route);
    });
  },
  { name: 'hookgate-verify' },
);

/**
 * What the verifier may read besides headers and bytes: the method, the trigger's published URL
 * with this request's query string (`{url}`), and the body parsed once, kept for the input stage.
 */
function verifyRequest(
  x: Exchange,
  headers: FastifyRequest['headers'],
  body: Buffer,
  method: string,
  rawUrl: string | undefined,
): VerifyRequest {
  const route = x.route!;
  const query = rawUrl?.indexOf('?') ?? -1;
  return {
    headers,
    body,
    method,
    ...(route.url !== undefined ? { url: route.url + (query >= 0 ? rawUrl!.slice(query) : '') } : {}),
    json: () => {
      x.parsed ??= { value: parseBody(bodyKind(headers['content-type']), body) };
      return x.parsed.value;
    },
  };
}
