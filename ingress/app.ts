import type { Server } from 'node:http';
import Fastify, {
  type FastifyError,
  type FastifyHttpOptions,
  type FastifyInstance,
  LogController,
} from 'fastify';
import fp from 'fastify-plugin';
import type { Registry } from 'prom-client';
import type { AnsweredName, Route } from '../api/v1alpha1/index.ts';
import type { Logger } from '../lib/log.ts';
import { BodyBudget } from './body-budget.ts';
import { FloodGuard } from './flood-guard.ts';
import { NO_CAPTURES, type SecretCaptures } from './handshakes/capture.ts';
import { trustedProxies } from './http/client-ip.ts';
import { HttpError, toHttpError } from './http/errors.ts';
import { exchanges, type RejectionSink } from './http/exchange.ts';
import { InputSchemas } from './input.ts';
import { ingressMetrics } from './metrics.ts';
import { type RateLimit, RateLimiter } from './ratelimit.ts';
import { admit } from './stages/admit.ts';
import type { StageContext } from './stages/context.ts';
import { handshakeStage } from './stages/handshake.ts';
import { launch } from './stages/launch.ts';
import { mapInputStage } from './stages/map-input.ts';
import { readBody } from './stages/read-body.ts';
import { verifyStage } from './stages/verify.ts';
import type { RequestTracer } from './tracing.ts';
import type { Launcher, RouteTable } from './types.ts';
import { Identities } from './verify/identity.ts';

export interface AppDeps {
  routes: RouteTable;
  launcher: Launcher;
  /** Metrics are registered here once; the launcher's hooks use the same collectors (ingressMetrics). */
  registry: Registry;
  /** Wall clock for signature timestamps and rate-limit windows (default Date.now). */
  clock?: () => number;
  /** Addresses/CIDRs of proxies whose X-Forwarded-For is believed (default none). */
  trustedProxies?: readonly string[];
  /** Called once per verified delivery (records the trigger's last use). */
  recordUse?: (route: Route) => void;
  /** Called once per handshake answered (records it in the trigger's status). */
  recordHandshake?: (route: Route, name: AnsweredName) => void;
  /** Where a secret captured from a handshake is stored (default: nowhere, answered 503). */
  captures?: SecretCaptures;
  /** Called for every refused delivery to a known trigger (its status, Warning Events). */
  recordRejection?: RejectionSink;
  /** Default: a fresh in-memory limiter per app. */
  limiter?: Pick<RateLimiter, 'take'>;
  /** This replica's share of a trigger's rate limit (default: all of it, as a lone replica). */
  share?: (limit: number) => number;
  /** Unverified requests per client address before the flood guard refuses it (default 600/min). */
  floodLimit?: RateLimit;
  /** Verifiers of senders without a shared secret, and their outbound client (default: production's). */
  identities?: Identities;
  recordSns?: StageContext['recordSns'];
  /** Traces requests and hands their context to the runs (ingress/tracing.ts); off when undefined. */
  tracer?: RequestTracer;
  /** Bytes of request bodies held at once, per client address and in all (default 8 and 64 MiB). */
  bodies?: BodyBudget;
}

/**
 * The ingress as a Fastify plugin: probes, error answers, metrics and the request log, and the
 * webhook route in its own context (its raw-body parser), where the request path runs as named
 * stages, each a plugin of its own: admit (headers only), read body, verify, handshake, map input,
 * launch.
 */
export const ingress = fp(
  async (app: FastifyInstance, deps: AppDeps) => {
    const metrics = ingressMetrics(deps.registry);
    const ctx: StageContext = {
      routes: deps.routes,
      launcher: deps.launcher,
      metrics,
      clock: deps.clock ?? Date.now,
      proxies: trustedProxies(deps.trustedProxies ?? []),
      limiter: deps.limiter ?? new RateLimiter(),
      share: deps.share ?? ((limit) => limit),
      flood: new FloodGuard(deps.floodLimit),
      bodies: deps.bodies ?? new BodyBudget(),
      schemas: new InputSchemas(),
      recordUse: deps.recordUse,
      identities: deps.identities ?? new Identities(),
      recordSns: deps.recordSns,
      recordHandshake: deps.recordHandshake,
      captures: deps.captures ?? NO_CAPTURES,
    };

    app.get('/healthz', async () => ({ ok: true }));
    app.get('/readyz', async (_request, reply) =>
      deps.routes.ready ? { ready: true } : reply.code(503).send({ ready: false }),
    );
    app.register(exchanges, { metrics, rejected: deps.recordRejection, tracer: deps.tracer });

    // While the app closes, answers in flight ask their clients to close the connection; otherwise a
    // kept-alive socket would hold the drain open until its deadline.
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (closing) reply.header('connection', 'close');
      done(null, payload);
    });

    app.setNotFoundHandler(async () => {
      throw new HttpError(404, 'not_found', 'no such trigger');
    });
    app.setErrorHandler(async (error: FastifyError, request, reply) => {
      const answer = toHttpError(error);
      if (answer.statusCode >= 500) {
        const x = request.exchange;
        request.log.error(
          { err: error, deliveryId: x?.delivery?.deliveryId, trace_id: x?.trace?.traceId },
          'webhook request failed',
        );
      }
      if (request.exchange) request.exchange.outcome = answer.code;
      return reply.code(answer.statusCode).headers(answer.headers).send(answer.body);
    });

    // Registration order is the order the stages run in.
    app.register(async (webhooks) => {
      webhooks.register(admit, ctx);
      webhooks.register(readBody, ctx);
      webhooks.register(verifyStage, ctx);
      webhooks.register(handshakeStage, ctx);
      webhooks.register(mapInputStage, ctx);
      webhooks.register(launch, ctx);
    });
  },
  { name: 'hookgate-ingress' },
);

/** The app, ready to `inject()` or `listen()`; server options (timeouts, caps) come from the caller. */
export function buildApp(
  deps: AppDeps & { logger?: Logger },
  options: FastifyHttpOptions<Server> = {},
): FastifyInstance {
  const { logger, ...rest } = deps;
  const app = Fastify({
    ...options,
    ...(logger ? { loggerInstance: logger } : {}),
    // Fastify's own request log prints the URL (which may carry a query token) and headers.
    logController: new LogController({ disableRequestLogging: true }),
    // Trigger names are DNS subdomains, up to 253 characters.
    routerOptions: { ...options.routerOptions, maxParamLength: 256 },
  });
  app.register(ingress, rest);
  return app;
}
