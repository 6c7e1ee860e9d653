import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HttpError } from '../http/errors.ts';
import { exchangeOf } from '../http/exchange.ts';
import { responseHeaders } from '../http/response-headers.ts';
import type { StageContext } from './context.ts';

/**
 * Stage 5, the handler: starts the run (or finds it already started) and answers; in wait mode,
 * once the run has finished. A waiting client that goes away frees its waiter at once.
 */
export const launch = fp(
  async (app: FastifyInstance, { launcher, metrics }: StageContext) => {
    async function deliver(request: FastifyRequest, reply: FastifyReply) {
      const x = exchangeOf(request);
      x.trace?.stage('launch');
      const delivery = x.trace ? { ...x.delivery!, trace: x.trace.carrier() } : x.delivery!;
      const { route, deliveryId } = delivery;
      const { run, duplicate } = await launcher.launch(delivery);
      x.run = run;
      if (duplicate) metrics.duplicate(route);
      else metrics.runStarted(route);
      const answer = {
        accepted: true,
        run,
        workflow: route.workflow.name,
        trigger: route.name,
        deliveryId,
        ...(duplicate ? { duplicate: true } : {}),
      };
      // A retried delivery keeps its 200 so senders can tell "already had it" from "started now".
      const status = (fresh: number) => (duplicate ? 200 : (route.response.statusCode ?? fresh));
      if (route.response.mode === 'wait') {
        const gone = new AbortController();
        const onClose = () => {
          if (!reply.raw.writableEnded) gone.abort();
        };
        reply.raw.once('close', onClose);
        let outcome: Awaited<ReturnType<typeof launcher.wait>>;
        try {
          outcome = await launcher.wait(route, run, route.response.timeoutSeconds * 1000, gone.signal);
        } finally {
          reply.raw.removeListener('close', onClose);
        }
        if (!outcome) {
          throw new HttpError(504, 'run_timeout', 'the run did not finish in time; it goes on', {}, { run });
        }
        x.outcome = duplicate ? 'duplicate' : 'accepted';
        // A failed run is still an accepted delivery: 200 with `result: Failed`, not a 5xx. A 5xx
        // would make GitHub/Stripe-style senders retry (and eventually disable the endpoint) for a
        // delivery that was handled; callers read `result` and `exitCode`.
        return reply
          .code(status(200))
          .headers(responseHeaders(route))
          .send({ ...answer, result: outcome.result, exitCode: outcome.exitCode, output: outcome.message });
      }
      x.outcome = duplicate ? 'duplicate' : 'accepted';
      // A sender that reads the answer (Discord's interactions) gets the trigger's own body.
      if (route.response.body)
        return reply
          .code(status(202))
          .headers(responseHeaders(route))
          .header('hookgate-run', run)
          .send(route.response.body);
      return reply.code(status(202)).headers(responseHeaders(route)).send(answer);
    }

    // `<url>/<token>`: the URL token of senders that can carry no other credential.
    for (const url of ['/hooks/:namespace/:name', '/hooks/:namespace/:name/:token']) {
      app.post(url, deliver);
      // Other methods are handshakes, answered before the handler, or refused (405, 404) on
      // admission; the route exists so that they reach it. GET brings HEAD.
      app.route({
        method: ['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
        url,
        handler: async () => {
          throw new HttpError(405, 'method_not_allowed', 'webhooks are delivered with POST', {
            allow: 'POST',
          });
        },
      });
    }
  },
  { name: 'hookgate-launch' },
);
