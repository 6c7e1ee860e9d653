import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { routePath } from '../../api/v1alpha1/index.ts';
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
 * token are all answered here, so junk costs little. Unverified requests count towards the flood
 * guard when they end.
 */
export const admit = fp(
  async (app: FastifyInstance, ctx: StageContext) => {
    const { flood, routes, clock, proxies, metrics } = ctx;
    const FLOODED = new HttpError(429, 'flooded', 'too many unverified requests from this address', {
      'retry-after': flood.limit.periodSeconds,
    });

    app.addHook('onRequest', async (request: HookRequest) => {
      const x = exchangeOf(request);
      x.trace?.stage('admit');
      const now = clock();
      x.client = limitKey(
        clientIp(request.socket.remoteAddress, request.headers['x-forwarded-for'], proxies),
      );
      if (flood.blocked(x.client, now)) {
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
    });

    // A callback hook, not an async one: this runs for every rejected request.
    app.addHook('onResponse', (request, _reply, done) => {
      const x = request.exchange;
      if (x?.client !== undefined && !x.verified) flood.strike(x.client, clock());
      done();
    });
  },
  { name: 'hookgate-admit' },
);
