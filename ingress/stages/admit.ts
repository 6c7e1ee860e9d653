import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { routePath } from '../../api/v1alpha1/index.ts';
import { reserveBody } from '../body-budget.ts';
import { clientIp, limitKey } from '../http/client-ip.ts';
import { BEARER_CHALLENGE, HttpError, RETRY_AFTER_NOT_RUNNABLE, tooLarge } from '../http/errors.ts';
import { exchangeOf } from '../http/exchange.ts';
import { bodyKind } from '../input.ts';
import { verifyToken } from '../verify/index.ts';
import type { StageContext } from './context.ts';

type HookRequest = FastifyRequest<{ Params: { namespace: string; name: string } }>;

/**
 * Stage 1, from the headers alone: nothing is read until the trigger is known and the request could
 * be a delivery. Flooding addresses, unknown triggers, other methods, triggers that cannot run,
 * suspended ones, bodies too large or of a type we do not read, and a missing or wrong bearer
 * token are all answered here, so junk costs little; then the declared body is reserved from the
 * body budget (429 over the address's share, 503 over the whole). Unverified requests count
 * towards the flood guard when they end, however they end: answered, aborted by the client, or
 * cut by the request timeout (Node answers that 408 itself).
 */
export const admit = fp(
  async (app: FastifyInstance, ctx: StageContext) => {
    const { flood, bodies, routes, clock, proxies, metrics } = ctx;
    // The connection closes after it: a flooding client's body is not worth reading to keep it alive.
    const FLOODED = new HttpError(429, 'flooded', 'too many unverified requests from this address', {
      'retry-after': flood.limit.periodSeconds,
      connection: 'close',
    });

    app.addHook('onRequest', async (request: HookRequest, reply: FastifyReply) => {
      const x = exchangeOf(request);
      x.trace?.stage('admit');
      const now = clock();
      const client = limitKey(
        clientIp(request.socket.remoteAddress, request.headers['x-forwarded-for'], proxies),
      );
      x.client = client;
      // The response's close is the one end every request has (an aborted request never gets an
      // answer, and Fastify's onResponse never runs for it).
      reply.raw.once('close', () => {
        if (x.reserved) bodies.release(client, x.reserved);
        if (!x.verified) flood.strike(client, clock());
      });
      if (flood.blocked(client, now)) {
        metrics.floodRejected();
        throw FLOODED;
      }
      const route = routes.match(routePath(request.params.namespace, request.params.name));
      if (!route) throw new HttpError(404, 'not_found', 'no such trigger');
      x.route = route;
      // A sender that uses the wrong method on a real trigger is told so; an unknown path stays
      // 404 whatever the method, so probing reveals nothing more than a POST would.
      if (request.method !== 'POST') {
        throw new HttpError(405, 'method_not_allowed', 'webhooks are delivered with POST', { allow: 'POST' });
      }
      if (route.unavailable) {
        x.reason = route.unavailable.reason;
        throw new HttpError(503, 'trigger_unavailable', route.unavailable.message, {
          'retry-after': RETRY_AFTER_NOT_RUNNABLE,
        });
      }
      if (route.suspended) throw new HttpError(403, 'suspended', 'the trigger is suspended');
      const length = Number(request.headers['content-length'] ?? 0);
      if (length > route.maxBodyBytes) throw tooLarge(route);
      const contentType = request.headers['content-type'];
      const hasBody = length > 0 || request.headers['transfer-encoding'] !== undefined;
      if ((hasBody || contentType !== undefined) && !bodyKind(contentType)) {
        throw new HttpError(
          415,
          'unsupported_media_type',
          'send application/json, application/*+json, text/plain (JSON) or application/x-www-form-urlencoded',
        );
      }
      const token = verifyToken(route.auth, request.headers, now);
      if (!token.ok) {
        x.reason = token.reason;
        metrics.verificationFailed(route, token.reason);
        const challenge = route.auth.tokens ? BEARER_CHALLENGE : {};
        throw new HttpError(401, 'unauthorized', `verification failed: ${token.reason}`, challenge);
      }
      // A chunked body (no length) is reserved as it arrives (read-body.ts).
      if (length > 0) reserveBody(bodies, x, client, length);
    });
  },
  { name: 'hookgate-admit' },
);
