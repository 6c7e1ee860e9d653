import https from 'node:https';
import {
  type ApiConstructor,
  type ApiType,
  type ConfigurationOptions,
  createConfiguration,
  type KubeConfig,
  Observable,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
  ServerConfiguration,
} from '@kubernetes/client-node';
import { errorMessage, requestJSON, statusOf } from '../../lib/kube.ts';
import { ApiUnavailableError, JobRejectedError } from '../types.ts';

/**
 * An API client like `kc.makeApiClient`, plus a per-request timeout (a hung API server must turn into
 * a 503, not a hung webhook) and one keep-alive agent (client-node builds a new agent, so a new TLS
 * connection, for every request).
 */
export function makeClient<T extends ApiType>(kc: KubeConfig, Api: ApiConstructor<T>, timeoutMs = 10_000): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  let agent: Promise<https.Agent | undefined> | undefined;
  return new Api(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kc },
      promiseMiddleware: [
        {
          pre: async (ctx) => {
            agent ??= keepAliveAgent(kc);
            const shared = await agent;
            if (shared) ctx.setAgent(shared);
            ctx.setSignal(AbortSignal.timeout(timeoutMs));
            return ctx;
          },
          post: async (res) => res,
        },
      ],
    }),
  );
}

async function keepAliveAgent(kc: KubeConfig): Promise<https.Agent | undefined> {
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server.startsWith('https:') || cluster.proxyUrl) return undefined;
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  return new https.Agent({
    ca: opts.ca,
    cert: opts.cert,
    key: opts.key,
    rejectUnauthorized: opts.rejectUnauthorized,
    servername: cluster.tlsServerName,
    keepAlive: true,
  });
}

/**
 * POSTs raw JSON over the shared keep-alive agent and returns the parsed object. The hot path (a
 * Job and its input Secret per delivery) skips client-node's model (de)serialisation and
 * middleware, which cost more CPU than the rest of an accepted delivery together.
 */
export function makePoster(kc: KubeConfig, timeoutMs = 10_000) {
  if (!kc.getCurrentCluster()) throw new Error('the kubeconfig has no current cluster');
  let agent: Promise<https.Agent | undefined> | undefined;
  return async <T>(path: string, body: unknown): Promise<T> => {
    agent ??= keepAliveAgent(kc);
    return requestJSON<T>(kc, { method: 'POST', path, body, timeoutMs, agent: await agent });
  };
}

const middleware = (pre: (ctx: RequestContext) => void): ObservableMiddleware => ({
  pre: (ctx: RequestContext) => {
    pre(ctx);
    return new Observable(Promise.resolve(ctx));
  },
  post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
});

/**
 * Per-call options that send `body` as is. The typed clients serialise through their models, which
 * silently drop fields they do not know, and a workflow's job template may use newer ones.
 */
export function rawBody(body: unknown, contentType = 'application/json'): ConfigurationOptions {
  return {
    middleware: [
      middleware((ctx) => {
        ctx.setHeaderParam('Content-Type', contentType);
        ctx.setBody(JSON.stringify(body));
      }),
    ],
    middlewareMergeStrategy: 'append',
  };
}

/** Network errors, timeouts, 429 and 5xx: the API server cannot take the write now. */
export function isUnavailable(err: unknown): boolean {
  const code = statusOf(err);
  if (code !== undefined) return code === 429 || code >= 500;
  const e = err as { name?: string; type?: string; code?: unknown } | undefined;
  return (
    e?.name === 'FetchError' ||
    e?.name === 'AbortError' ||
    e?.name === 'TimeoutError' ||
    e?.type === 'system' ||
    // node:https system errors: ECONNREFUSED, ECONNRESET, ...
    (typeof e?.code === 'string' && e.code.startsWith('E'))
  );
}

/** Maps a failed write to the errors the app answers with; others pass through (500). */
export function launchError(err: unknown): unknown {
  if (isUnavailable(err)) return new ApiUnavailableError(errorMessage(err), { cause: err });
  const code = statusOf(err);
  if (code === 400 || code === 422) return new JobRejectedError(errorMessage(err), { cause: err });
  return err;
}
