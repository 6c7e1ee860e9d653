import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { HttpError } from '../http/errors.ts';
import { exchangeOf } from '../http/exchange.ts';
import { responseHeaders } from '../http/response-headers.ts';
import {
  bodyKind,
  deliveryIdOf,
  deliveryKey,
  MAX_DELIVERY_ID,
  MalformedBodyError,
  mapInput,
  matchesFilter,
  parseBody,
} from '../input.ts';
import { isPing } from '../pings.ts';
import { deliveryIdSource } from '../verify/index.ts';
import type { StageContext } from './context.ts';

const EMPTY = Buffer.alloc(0);

/**
 * Stage 4: what a verified body means. Parsed (depth- and field-capped, 400), Slack's URL check
 * answered, the trigger's filter applied (202, no run), the input mapped and checked against the
 * workflow's inputSchema (422), and the delivery named: the sender's id for display, and the
 * dedupe key from signed material (see deliveryKey).
 */
export const mapInputStage = fp(
  async (app: FastifyInstance, ctx: StageContext) => {
    const { clock, schemas } = ctx;
    app.addHook('preHandler', async (request, reply) => {
      const x = exchangeOf(request);
      const route = x.route!;
      let payload: unknown;
      try {
        payload = x.parsed
          ? x.parsed.value
          : parseBody(bodyKind(request.headers['content-type']), (request.body as Buffer) ?? EMPTY);
      } catch (err) {
        if (err instanceof MalformedBodyError) throw new HttpError(400, 'malformed_body', err.message);
        throw err;
      }
      const slack = route.auth.signature?.scheme === 'slack' || route.provider?.name === 'slack';
      // Slack checks an Events API URL with a signed challenge it expects echoed; it starts nothing.
      if (slack && isUrlVerification(payload)) {
        x.outcome = 'challenge';
        return reply.code(200).send({ challenge: payload.challenge });
      }
      // A provider's ping (sent when a webhook is created or tested) is answered and starts nothing.
      if (isPing(route, payload, request.headers)) {
        x.outcome = 'ping';
        return reply.code(200).send({ accepted: true, run: null, ping: true });
      }
      if (!matchesFilter(route.filter, payload, request.headers)) {
        x.outcome = 'filtered';
        return reply
          .code(202)
          .headers(responseHeaders(route))
          .send({ accepted: true, run: null, filtered: true });
      }
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
        key: named.key,
        ...(named.replayUntil ? { replayUntil: new Date(named.replayUntil).toISOString() } : {}),
        ...(named.matchSenderId && senderId ? { matchSenderId: true } : {}),
      };
    });
  },
  { name: 'hookgate-map-input' },
);

const isUrlVerification = (p: unknown): p is { challenge: string } =>
  typeof p === 'object' &&
  p !== null &&
  (p as { type?: unknown }).type === 'url_verification' &&
  typeof (p as { challenge?: unknown }).challenge === 'string';
