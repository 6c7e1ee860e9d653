import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import Fastify, {
  type FastifyError,
  type FastifyHttpOptions,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Registry } from 'prom-client';
import { InputSchemaError } from '../lib/input-schema.ts';
import type { Logger } from '../lib/log.ts';
import { type Route, routePath } from '../operator/api/v1alpha1/index.ts';
import { clientIp, trustedProxies } from './http/client-ip.ts';
import { HttpError } from './http/errors.ts';
import {
  bodyKind,
  deliveryIdOf,
  InputSchemas,
  MAX_DELIVERY_ID,
  MalformedBodyError,
  mapInput,
  matchesFilter,
  parseBody,
} from './input.ts';
import { ingressMetrics, type Outcome } from './metrics.ts';
import { RateLimiter } from './ratelimit.ts';
import {
  ApiUnavailableError,
  InputTooLargeError,
  JobRejectedError,
  type Launcher,
  type RouteTable,
  RunActiveError,
} from './types.ts';
import { defaultIdempotency, verify } from './verify/index.ts';

/** The largest body any trigger may accept (`maxBodyBytes` is at most 1 MiB). */
export const MAX_BODY_BYTES = 1_048_576;
/** Seconds a sender should wait after a 503 before retrying. */
export const RETRY_AFTER_UNAVAILABLE = 5;
/** After a 503 that needs a person to fix the trigger or its Workflow. */
export const RETRY_AFTER_NOT_RUNNABLE = 60;

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
  /** Default: a fresh in-memory limiter per app. */
  limiter?: Pick<RateLimiter, 'take'>;
}

/** Per-request state for the one log line and the metrics, kept off the request object. */
interface Exchange {
  start: number;
  route?: Route;
  outcome?: Outcome;
  run?: string;
}

const PROBES = new Set(['/healthz', '/readyz']);
const EMPTY = Buffer.alloc(0);
// Headers a trigger's `response.headers` may not set: they would corrupt the HTTP framing.
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade']);

/**
 * The ingress as a Fastify plugin: webhook route, probes, error answers, metrics and the request
 * log. Registered without encapsulation (skip-override) so its error and not-found handlers are the
 * app's; the webhook route sits in its own context for its raw-body parser.
 */
export async function ingress(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const metrics = ingressMetrics(deps.registry);
  const clock = deps.clock ?? Date.now;
  const proxies = trustedProxies(deps.trustedProxies ?? []);
  const limiter = deps.limiter ?? new RateLimiter();
  const schemas = new InputSchemas();
  const exchanges = new WeakMap<FastifyRequest, Exchange>();

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_request, reply) =>
    deps.routes.ready ? { ready: true } : reply.code(503).send({ ready: false }),
  );

  app.addHook('onRequest', async (request) => {
    if (!PROBES.has(request.routeOptions.url ?? '')) exchanges.set(request, { start: performance.now() });
  });

  app.addHook('onResponse', async (request, reply) => {
    const x = exchanges.get(request);
    if (!x) return;
    const seconds = (performance.now() - x.start) / 1000;
    const outcome = x.outcome ?? 'internal_error';
    metrics.request(x.route, outcome, seconds);
    // The one line per request: what happened, never a header, credential or payload.
    request.log.info(
      {
        trigger: x.route ? `${x.route.namespace}/${x.route.name}` : undefined,
        outcome,
        status: reply.statusCode,
        run: x.run,
        durationMs: Math.round(seconds * 10_000) / 10,
      },
      'webhook request',
    );
  });

  // While the app closes, answers in flight ask their clients to close the connection; otherwise a
  // kept-alive socket would hold the drain open until its deadline.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  app.setNotFoundHandler(async () => {
    throw new HttpError(404, 'not_found', 'no such trigger');
  });

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const answer = toHttpError(error);
    if (answer.statusCode >= 500) request.log.error({ err: error }, 'webhook request failed');
    const x = exchanges.get(request);
    if (x) x.outcome = answer.code;
    return reply.code(answer.statusCode).headers(answer.headers).send(answer.body);
  });

  // Until the trigger is known nothing is read: unknown, suspended, rate-limited, too large and
  // unsupported requests are answered from the headers alone, so floods cost little.
  async function admit(
    request: FastifyRequest<{ Params: { namespace: string; name: string } }>,
    reply: FastifyReply,
  ) {
    const x = exchanges.get(request)!;
    const route = deps.routes.match(routePath(request.params.namespace, request.params.name));
    if (!route) throw new HttpError(404, 'not_found', 'no such trigger');
    x.route = route;
    if (route.unavailable) {
      throw new HttpError(503, 'trigger_unavailable', route.unavailable.message, {
        'retry-after': RETRY_AFTER_NOT_RUNNABLE,
      });
    }
    if (route.suspended) throw new HttpError(403, 'suspended', 'the trigger is suspended');

    const ip = clientIp(request.socket.remoteAddress, request.headers['x-forwarded-for'], proxies);
    const rate = limiter.take(`${route.namespace}/${route.name}|${ip}`, route.rateLimit, clock());
    reply.headers({
      'ratelimit-limit': rate.limit,
      'ratelimit-remaining': rate.remaining,
      'ratelimit-reset': rate.resetSeconds,
    });
    if (!rate.allowed) {
      metrics.rateLimited(route);
      throw new HttpError(429, 'rate_limited', 'too many requests; retry later', {
        'retry-after': rate.retryAfterSeconds ?? rate.resetSeconds,
      });
    }

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
  }

  async function deliver(request: FastifyRequest, reply: FastifyReply) {
    const x = exchanges.get(request)!;
    const route = x.route!;
    const raw = (request.body as Buffer | undefined) ?? EMPTY;
    // Content-Length was checked before reading; a chunked body is only known now.
    if (raw.length > route.maxBodyBytes) throw tooLarge(route);

    const verdict = verify(route.auth, { headers: request.headers, body: raw }, clock());
    if (!verdict.ok) {
      metrics.verificationFailed(route, verdict.reason);
      const challenge: Record<string, string> = route.auth.tokens
        ? { 'www-authenticate': 'Bearer realm="hookgate"' }
        : {};
      throw new HttpError(401, 'unauthorized', `verification failed: ${verdict.reason}`, challenge);
    }
    deps.recordUse?.(route);

    let payload: unknown;
    try {
      payload = parseBody(bodyKind(request.headers['content-type']), raw);
    } catch (err) {
      if (err instanceof MalformedBodyError) throw new HttpError(400, 'malformed_body', err.message);
      throw err;
    }

    // Slack checks an Events API URL with a signed challenge it expects echoed; it starts nothing.
    if (route.auth.signature?.scheme === 'slack' && isUrlVerification(payload)) {
      x.outcome = 'challenge';
      return reply.code(200).send({ challenge: payload.challenge });
    }

    const extraHeaders = responseHeaders(route);
    if (!matchesFilter(route.filter, payload, request.headers)) {
      x.outcome = 'filtered';
      return reply.code(202).headers(extraHeaders).send({ accepted: true, run: null, filtered: true });
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

    const source = route.idempotency?.header || route.idempotency?.field ? route.idempotency : undefined;
    const deliveryId =
      deliveryIdOf(source ?? defaultIdempotency(route.auth.signature?.scheme), payload, request.headers) ??
      randomUUID();
    if (deliveryId.length > MAX_DELIVERY_ID) {
      throw new HttpError(400, 'bad_request', `the delivery id is longer than ${MAX_DELIVERY_ID} characters`);
    }

    const { run, duplicate } = await deps.launcher.launch({ route, deliveryId, input });
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
      const outcome = await deps.launcher.wait(route, run, route.response.timeoutSeconds * 1000);
      if (!outcome) {
        throw new HttpError(504, 'run_timeout', 'the run did not finish in time; it goes on', {}, { run });
      }
      x.outcome = duplicate ? 'duplicate' : 'accepted';
      // A failed run is still an accepted delivery: 200 with `result: Failed`, not a 5xx. A 5xx
      // would make GitHub/Stripe-style senders retry (and eventually disable the endpoint) for a
      // delivery that was handled; callers read `result` and `exitCode`.
      return reply
        .code(status(200))
        .headers(extraHeaders)
        .send({ ...answer, result: outcome.result, exitCode: outcome.exitCode, output: outcome.message });
    }
    x.outcome = duplicate ? 'duplicate' : 'accepted';
    return reply.code(status(202)).headers(extraHeaders).send(answer);
  }

  app.register(async (hooks) => {
    // Raw bytes for every content type: signatures are checked over exactly what was received,
    // and bodyKind/parseBody decide what the bytes mean after that.
    hooks.removeAllContentTypeParsers();
    hooks.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    hooks.post('/hooks/:namespace/:name', { bodyLimit: MAX_BODY_BYTES, onRequest: admit }, deliver);
    // A sender that uses the wrong method on a real trigger is told so; an unknown path stays 404
    // whatever the method, so probing reveals nothing more than a POST would.
    hooks.route({
      method: ['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      url: '/hooks/:namespace/:name',
      handler: async (request: FastifyRequest<{ Params: { namespace: string; name: string } }>) => {
        const route = deps.routes.match(routePath(request.params.namespace, request.params.name));
        if (!route) throw new HttpError(404, 'not_found', 'no such trigger');
        exchanges.get(request)!.route = route;
        throw new HttpError(405, 'method_not_allowed', 'webhooks are delivered with POST', { allow: 'POST' });
      },
    });
  });
}
// Plugin without encapsulation (what fastify-plugin does, without the dependency).
Object.assign(ingress, { [Symbol.for('skip-override')]: true });

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

const tooLarge = (route: Route) =>
  new HttpError(
    413,
    'payload_too_large',
    `the body is larger than this trigger accepts (${route.maxBodyBytes} bytes)`,
  );

const isUrlVerification = (p: unknown): p is { challenge: string } =>
  typeof p === 'object' &&
  p !== null &&
  (p as { type?: unknown }).type === 'url_verification' &&
  typeof (p as { challenge?: unknown }).challenge === 'string';

function responseHeaders(route: Route): Record<string, string> {
  return Object.fromEntries(
    Object.entries(route.response.headers ?? {}).filter(([name]) => !FRAMING.has(name.toLowerCase())),
  );
}

/** Maps anything thrown to an answer whose message is ours, never the error's own text. */
function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof RunActiveError) {
    return new HttpError(
      409,
      'run_active',
      'a run of this workflow is already active',
      {},
      { activeRun: error.active },
    );
  }
  if (error instanceof ApiUnavailableError) {
    return new HttpError(503, 'api_unavailable', 'runs cannot be started right now; retry later', {
      'retry-after': RETRY_AFTER_UNAVAILABLE,
    });
  }
  if (error instanceof InputTooLargeError) {
    return new HttpError(413, 'payload_too_large', 'the mapped input is larger than a run can carry');
  }
  if (error instanceof JobRejectedError) {
    return new HttpError(
      503,
      'run_rejected',
      'the cluster refused this run; its owner must fix the workflow',
      {
        'retry-after': RETRY_AFTER_NOT_RUNNABLE,
      },
    );
  }
  if (error instanceof InputSchemaError) {
    return new HttpError(503, 'input_schema_unusable', "the workflow's inputSchema cannot be used", {
      'retry-after': RETRY_AFTER_NOT_RUNNABLE,
    });
  }
  const status = (error as { statusCode?: unknown }).statusCode;
  if (status === 413) return new HttpError(413, 'payload_too_large', 'the body is too large');
  if (status === 415) return new HttpError(415, 'unsupported_media_type', 'unsupported content type');
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, 'bad_request', 'the request could not be read');
  }
  return new HttpError(500, 'internal_error', 'internal error');
}
