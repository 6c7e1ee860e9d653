import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isRejection, type RejectionOutcome, type Route } from '../../api/v1alpha1/index.ts';
import type { RouteHandshake } from '../handshakes/index.ts';
import type { IngressMetrics, Outcome } from '../metrics.ts';
import type { RequestTrace, RequestTracer } from '../tracing.ts';
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
  /** Bytes of the body budget this request holds (body-budget.ts), given back when it ends. */
  reserved?: number;
  /** What the sender signed that names this delivery (verify's `signed`). */
  signed?: string;
  /** The body as parsed (once) for a verifier that reads its fields; the input stage reuses it. */
  parsed?: { value: unknown };
  delivery?: Delivery;
  outcome?: Outcome;
  /** The request's trace, when tracing is on. */
  trace?: RequestTrace;
  /** Why, from a fixed set (a verification failure, the trigger's not-Ready reason): never request text. */
  reason?: string;
  run?: string;
}

/** Told of every delivery to a known trigger that was refused. */
export type RejectionSink = (
  route: Route,
  outcome: RejectionOutcome,
  statusCode: number,
  reason?: string,
) => void;

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
  async (
    app: FastifyInstance,
    {
      metrics,
      rejected,
      tracer,
    }: { metrics: IngressMetrics; rejected?: RejectionSink; tracer?: RequestTracer },
  ) => {
    app.decorateRequest('exchange', null);
    // The request line's fields are set below from our own values (names, codes, a duration),
    // never from what the request carried, so the redaction every other line goes through has
    // nothing to find here; it was a third of the line's cost, on every rejected delivery too.
    const lines = app.log.child({}, { redact: { paths: [] } });
    // Callback hooks, not async ones: they run for every request, and each async hook costs a
    // promise and a turn of the microtask queue.
    app.addHook('onRequest', (request, _reply, done) => {
      if (!PROBES.has(request.routeOptions.url ?? '')) {
        request.exchange = { start: performance.now() };
        if (tracer) request.exchange.trace = tracer.start(request.method, request.headers);
      }
      done();
    });
    // A client that went away before its answer: no onResponse, but its trace ends all the same.
    if (tracer)
      app.addHook('onRequestAbort', (request, done) => {
        request.exchange?.trace?.end(0, { 'hookgate.outcome': 'aborted' });
        done();
      });
    app.addHook('onResponse', (request, reply, done) => {
      const x = request.exchange;
      if (!x) return done();
      const seconds = (performance.now() - x.start) / 1000;
      const outcome = x.outcome ?? 'internal_error';
      metrics.request(x.route, outcome, seconds);
      if (x.route && rejected && isRejection(outcome)) rejected(x.route, outcome, reply.statusCode, x.reason);
      x.trace?.end(reply.statusCode, {
        'hookgate.trigger': x.route ? `${x.route.namespace}/${x.route.name}` : undefined,
        'hookgate.outcome': outcome,
        'hookgate.run': x.run,
      });
      // The one line per request: what happened, never a header, credential or payload.
      lines.info(
        {
          reqId: request.id,
          trigger: x.route ? `${x.route.namespace}/${x.route.name}` : undefined,
          outcome,
          status: reply.statusCode,
          run: x.run,
          deliveryId: x.delivery?.deliveryId,
          trace_id: x.trace?.traceId,
          durationMs: Math.round(seconds * 10_000) / 10,
        },
        'webhook request',
      );
      done();
    });
  },
  { name: 'hookgate-exchanges' },
);
