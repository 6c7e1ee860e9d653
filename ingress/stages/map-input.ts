import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { HttpError } from '../http/errors.ts';
import { exchangeOf } from '../http/exchange.ts';
import { responseHeaders } from '../http/response-headers.ts';
import { deliveryIdOf, deliveryKey, MAX_DELIVERY_ID, mapInput, matchesFilter } from '../input.ts';
import { stripField } from '../verify/credentials.ts';
import { deliveryIdSource } from '../verify/index.ts';
import type { StageContext } from './context.ts';
import { payloadOf } from './payload.ts';

/**
 * Stage 5: what a verified body means. Parsed (depth- and field-capped, 400), the trigger's filter
 * applied (202, no run), the input mapped (without a body-field secret) and checked against the
 * workflow's inputSchema (422), and the delivery named: the sender's id for display, and the
 * dedupe key from signed material (see deliveryKey).
 */
export const mapInputStage = fp(
  async (app: FastifyInstance, ctx: StageContext) => {
    const { clock, schemas } = ctx;
    app.addHook('preHandler', async (request, reply) => {
      const x = exchangeOf(request);
      x.trace?.stage('map input');
      const route = x.route!;
      const payload = payloadOf(request);
      if (!matchesFilter(route.filter, payload, request.headers)) {
        x.outcome = 'filtered';
        return reply
          .code(202)
          .headers(responseHeaders(route))
          .send({ accepted: true, run: null, filtered: true });
      }
      if (route.auth.bodySecret) stripField(payload, route.auth.bodySecret.field);
      const input = mapInput(route, payload, request.query as Record<string, unknown>, request.headers);
      const problem = schemas.check(route.workflow, input);
      if (problem) {
        throw new HttpError(
          422,
          'invalid_input',
          `input does not match the workflow's inputSchema: ${problem}`,
        );
      }
      const source = deliveryIdSource(route);
      const senderId = deliveryIdOf(source, payload, request.headers);
      const deliveryId = senderId ?? randomUUID();
      if (deliveryId.length > MAX_DELIVERY_ID) {
        throw new HttpError(
          400,
          'bad_request',
          `the delivery id is longer than ${MAX_DELIVERY_ID} characters`,
        );
      }
      const named = deliveryKey(route, payload, x.signed, deliveryId, clock());
      x.delivery = {
        route,
        deliveryId,
        input,
        // What a repeat may restore: nothing the request carries unsigned.
        ...(route.input.query || route.input.headers?.length
          ? { restoreInput: mapInput(route, payload, {}, {}) }
          : {}),
        key: named.key,
        ...(named.replayUntil
          ? {
              replayUntil: new Date(named.replayUntil).toISOString(),
              replayWindowSeconds: named.replayWindowSeconds,
            }
          : {}),
        ...(named.matchSenderId && senderId ? { matchSenderId: true } : {}),
      };
    });
  },
  { name: 'hookgate-map-input' },
);
