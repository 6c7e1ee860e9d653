import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Route } from '../../api/v1alpha1/index.ts';
import type { RouteHandshake } from '../handshakes/index.ts';
import type { IngressMetrics, Outcome } from '../metrics.ts';
import type { Delivery } from '../types.ts';

/**
 * What the stages of one webhook request learn and hand on, and what its one log line and metrics
 * report. Kept on the request (`request.exchange`), null for probes.
 */
export interface Exchange {
  start: number;
  /** The client address as the limiters key it (an IPv6 address by its /64). */
  client?: string;
  route?: Route;
  /** The handshake this request is, once known (from its head on admission, or from its body). */
  handshake?: RouteHandshake;
  /** Set once the signature (or token) checked out. */
  verified?: boolean;
  /** What the sender signed that names this delivery (verify's `signed`). */
  signed?: string;
  /** The body as parsed (once) for a verifier that reads its fields; the input stage reuses it. */
  parsed?: { value: unknown };
  delivery?: Delivery;
  outcome?: Outcome;
  run?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    exchange: Exchange | null;
  }
}

/** The exchange of a webhook request; only called by stages that run after `exchanges` set it. */
export const exchangeOf = (request: FastifyRequest): Exchange => request.exchange!;

const PROBES = new Set(['/healthz', '/readyz']);

/** Starts each webhook request's exchange and ends it with the one log line and the metrics. */
export const exchanges = fp(
  async (app: FastifyInstance, { metrics }: { metrics: IngressMetrics }) => {
    app.decorateRequest('exchange', null);
    // The request line's fields are set below from our own values (names, codes, a duration),
    // never from what the request carried, so the redaction every other line goes through has
    // nothing to find here; it was a third of the line's cost, on every rejected delivery too.
    const lines = app.log.child({}, { redact: { paths: [] } });
    // Callback hooks, not async ones: they run for every request, and each async hook costs a
    // promise and a turn of the microtask queue.
    app.addHook('onRequest', (request, _reply, done) => {
      if (!PROBES.has(request.routeOptions.url ?? '')) request.exchange = { start: performance.now() };
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      const x = request.exchange;
      if (!x) return done();
      const seconds = (performance.now() - x.start) / 1000;
      const outcome = x.outcome ?? 'internal_error';
      metrics.request(x.route, outcome, seconds);
      // The one line per request: what happened, never a header, credential or payload.
      lines.info(
        {
          reqId: request.id,
          trigger: x.route ? `${x.route.namespace}/${x.route.name}` : undefined,
          outcome,
          status: reply.statusCode,
          run: x.run,
          durationMs: Math.round(seconds * 10_000) / 10,
        },
        'webhook request',
      );
      done();
    });
  },
  { name: 'hookgate-exchanges' },
);
