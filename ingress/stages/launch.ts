import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HttpError } from '../http/errors.ts';
import { exchangeOf } from '../http/exchange.ts';
import { responseHeaders } from '../http/response-headers.ts';
import { DeadlineExceededError, type LaunchResult } from '../types.ts';
import type { StageContext } from './context.ts';

/**
 * The launch, or DeadlineExceededError once `deadline` (performance.now() time) has passed: senders
 * give up after a few seconds (GitHub 10, Slack 3) and an answer after that is lost. The launch is
 * not cut short: a Job create the API server already has may land anyway, and its input Secret
 * must follow it; the sender's retry (same delivery, same run name) then finds the run.
 */
export function withinDeadline(launch: () => Promise<LaunchResult>, deadline: number): Promise<LaunchResult> {
  const left = deadline - performance.now();
  if (left <= 0) return Promise.reject(new DeadlineExceededError('no time left to start the run'));
  const running = launch();
  return new Promise((resolve, reject) => {
    // Whatever the launch comes to after this, nobody waits for it (a later reject is a no-op).
    const timer = setTimeout(
      () => reject(new DeadlineExceededError('the run was not started in time')),
      left,
    );
    running.then(
      (r) => {
        clearTimeout(timer);
        resolve(r);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * Stage 5, the handler: starts the run (or finds it already started) within the trigger's answer
 * deadline, and answers; in wait mode, once the run has finished. A waiting client that goes away
 * frees its waiter at once.
 */
export const launch = fp(
  async (app: FastifyInstance, { launcher, metrics }: StageContext) => {
    async function deliver(request: FastifyRequest, reply: FastifyReply) {
      const x = exchangeOf(request);
      x.trace?.stage('launch');
      const delivery = x.trace ? { ...x.delivery!, trace: x.trace.carrier() } : x.delivery!;
      const { route, deliveryId } = delivery;
      const deadline = x.start + route.response.deadlineSeconds * 1000;
      const { run, duplicate } = await withinDeadline(() => launcher.launch(delivery), deadline);
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
        // The output is run data: only where the trigger opts in, and never for whoever replays a
        // delivery (a duplicate), who holds nothing but a copy of a request.
        const output = route.response.includeOutput && !duplicate ? outcome.message : undefined;
        return reply
          .code(status(200))
          .headers(responseHeaders(route))
          .send({ ...answer, result: outcome.result, exitCode: outcome.exitCode, output });
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
