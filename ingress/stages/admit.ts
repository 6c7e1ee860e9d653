import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type Route, routePath } from '../../api/v1alpha1/index.ts';
import { reserveBody } from '../body-budget.ts';
import { allowedMethods, type Head, handshakeOf, type RouteHandshake, trustOf } from '../handshakes/index.ts';
import { clientIp, limitKey } from '../http/client-ip.ts';
import { HttpError, RETRY_AFTER_NOT_RUNNABLE, tooLarge, unauthorized } from '../http/errors.ts';
import { exchangeOf } from '../http/exchange.ts';
import { bodyKind } from '../input.ts';
import { verifyToken } from '../verify/index.ts';
import type { StageContext } from './context.ts';

type HookRequest = FastifyRequest<{
  Params: { namespace: string; name: string; token?: string };
  Querystring: Record<string, unknown>;
}>;

/**
 * A method other than POST reaches a trigger only as one of its handshakes: 405 (with what it
 * accepts) for a method it has no handshake for, 400 for a request of such a method that is not
 * the handshake.
 */
function wrongMethod(route: Route, method: string): HttpError {
  const allow = allowedMethods(route);
  if (!allow.includes(method))
    return new HttpError(405, 'method_not_allowed', `this trigger accepts ${allow.join(', ')}`, {
      allow: allow.join(', '),
    });
  const names = (route.handshakes ?? []).map((h) => h.name).join(', ');
  return new HttpError(400, 'bad_request', `a ${method} here must be a handshake (${names})`);
}

/**
 * The credentials checked from the head: all of them, except for a handshake its provider sends
 * without them (unsigned, captured, or with a verify token of its own), where only the URL token
 * is, as the handshake comes to the same URL.
 */
function headCredentials(route: Route, handshake: RouteHandshake | undefined): Route['auth'] | undefined {
  if (!handshake || trustOf(handshake) === 'verified') return route.auth;
  return route.auth.urlTokens ? { urlTokens: route.auth.urlTokens } : undefined;
}

/**
 * Stage 1, from the headers alone: nothing is read until the trigger is known and the request could
 * be a delivery or one of its handshakes. Flooding addresses, unknown triggers, other methods,
 * triggers that cannot run, suspended ones, bodies too large or of a type we do not read, and a
 * missing or wrong bearer token, Basic credential or URL token are all answered here, so junk
 * costs little; then the declared body is reserved from the body budget (429 over the address's
 * share, 503 over the whole). Unverified requests (answered handshakes that carry no credential
 * too) count towards the flood guard when they end, however they end: answered, aborted by the
 * client, or cut by the request timeout (Node answers that 408 itself).
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
      // A token segment is a path only a trigger with a URL token has (an unavailable route carries
      // no credentials, so it cannot say: its 503 answers any path of the trigger).
      const stray = request.params.token !== undefined && !route?.auth.urlTokens && !route?.unavailable;
      if (!route || stray) throw new HttpError(404, 'not_found', 'no such trigger');
      x.route = route;
      const head: Head = { method: request.method, headers: request.headers, query: request.query };
      x.handshake = handshakeOf(route, head);
      // A sender that uses the wrong method on a real trigger is told so; an unknown path stays
      // 404 whatever the method, so probing reveals nothing more than a POST would.
      if (request.method !== 'POST' && !x.handshake) throw wrongMethod(route, request.method);
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
      const auth = headCredentials(route, x.handshake);
      const token =
        auth && verifyToken(auth, { headers: request.headers, urlToken: request.params.token }, now);
      if (token && !token.ok) {
        x.reason = token.reason;
        metrics.verificationFailed(route, token.reason);
        throw unauthorized(route.auth, token.reason);
      }
      // A chunked body (no length) is reserved as it arrives (read-body.ts).
      if (length > 0) reserveBody(bodies, x, client, length);
    });
  },
  { name: 'hookgate-admit' },
);
