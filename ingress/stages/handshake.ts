import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Route } from '../../api/v1alpha1/index.ts';
import {
  allowedMethods,
  answer,
  bodyHandshakeOf,
  hasBodyHandshakes,
  type RouteHandshake,
} from '../handshakes/index.ts';
import { exchangeOf } from '../http/exchange.ts';
import { isPing } from '../pings.ts';
import { active, verifySignature } from '../verify/index.ts';
import type { StageContext } from './context.ts';
import { payloadOf } from './payload.ts';
import { verifyRequest } from './verify.ts';

/** Of the signing secrets still valid, the one this request was signed with (Zoom answers with it). */
async function signingSecretOf(request: FastifyRequest, route: Route, now: number) {
  const signature = route.auth.signature;
  if (!signature) return undefined;
  const req = verifyRequest(request);
  for (const value of active(signature.secrets, now)) {
    const one = { signature: { ...signature, secrets: [{ value }] } };
    if ((await verifySignature(one, req, now)).ok) return value;
  }
  return undefined;
}

/**
 * Stage 4: a handshake is answered here and never starts a run. One recognised from the head was
 * found on admission; a POST that looked like a delivery is checked against its trigger's body
 * handshakes (Slack's, Zoom's) and its provider's pings once verified. Anything else is a
 * delivery, which counts as a use.
 */
export const handshakeStage = fp(
  async (app: FastifyInstance, ctx: StageContext) => {
    const { clock, recordUse, recordHandshake, captures } = ctx;
    async function respond(request: FastifyRequest, reply: FastifyReply, config: RouteHandshake) {
      const x = exchangeOf(request);
      const route = x.route!;
      const now = clock();
      const a = await answer({
        head: {
          method: request.method,
          headers: request.headers,
          query: request.query as Record<string, unknown>,
        },
        route,
        config,
        payload: () => payloadOf(request),
        signingSecret: () => signingSecretOf(request, route, now),
        capture: (value) => captures.capture(route, value),
        allow: allowedMethods(route).join(', '),
      });
      x.handshake = config;
      x.outcome = `handshake_${config.name}`;
      recordHandshake?.(route, config.name);
      return reply.code(a.status).headers(a.headers).send(a.body);
    }

    // A callback hook, not an async one: it runs for every delivery, most of which pass through.
    app.addHook('preHandler', (request, reply, done) => {
      const x = exchangeOf(request);
      const route = x.route!;
      let config: RouteHandshake | undefined = x.handshake;
      try {
        if (!config && request.method === 'POST' && hasBodyHandshakes(route))
          config = bodyHandshakeOf(route, payloadOf(request));
        // A provider's ping (sent when a webhook is created or tested) is answered and starts nothing.
        if (!config && route.provider?.pings && isPing(route, payloadOf(request), request.headers)) {
          x.outcome = 'ping';
          recordHandshake?.(route, 'ping');
          reply.code(200).send({ accepted: true, run: null, ping: true });
          return;
        }
      } catch (err) {
        return done(err as Error);
      }
      if (!config) {
        recordUse?.(route);
        return done();
      }
      // Answered from the hook: the chain stops at the reply (done is not called on success).
      respond(request, reply, config).catch(done);
    });
  },
  { name: 'hookgate-handshake' },
);
