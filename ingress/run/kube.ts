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
import { statusOf } from '../../lib/kube.ts';
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

/** Per-call options that also abort the request on `signal` (besides the client's timeout). */
export function withSignal(signal: AbortSignal): ConfigurationOptions {
  return {
    middleware: [
      middleware((ctx) => {
        const timeout = ctx.getSignal();
        ctx.setSignal(timeout ? AbortSignal.any([timeout, signal]) : signal);
      }),
    ],
    middlewareMergeStrategy: 'append',
  };
}

/** Network errors, timeouts, 429 and 5xx: the API server cannot take the write now. */
export function isUnavailable(err: unknown): boolean {
  const code = statusOf(err);
  if (code !== undefined) return code === 429 || code >= 500;
  const e = err as { name?: string; type?: string } | undefined;
  return (
    e?.name === 'FetchError' || e?.name === 'AbortError' || e?.name === 'TimeoutError' || e?.type === 'system'
  );
}

/** Maps a failed write to the errors the app answers with; others pass through (500). */
export function launchError(err: unknown): unknown {
  if (isUnavailable(err)) return new ApiUnavailableError(describe(err), { cause: err });
  const code = statusOf(err);
  if (code === 400 || code === 422) return new JobRejectedError(describe(err), { cause: err });
  return err;
}

/**
 * A short, log-safe description: the status code and the API server's message. ApiException's own
 * message embeds the whole response, and a JSON SyntaxError quotes the input, so neither is used.
 */
export function describe(err: unknown): string {
  const code = statusOf(err);
  if (code !== undefined) {
    const body = (err as { body?: unknown }).body;
    const message =
      typeof body === 'object' && body && 'message' in body
        ? String((body as { message: unknown }).message)
        : typeof body === 'string' && body.startsWith('{')
          ? String(safeJson(body)?.message ?? '')
          : '';
    return `HTTP ${code}${message ? `: ${message.slice(0, 500)}` : ''}`;
  }
  const e = err as { name?: string; code?: unknown; message?: unknown } | undefined;
  if (e?.name === 'SyntaxError') return 'SyntaxError';
  return [e?.name, e?.code, e?.message].filter((x) => x !== undefined && x !== '').join(': ') || String(err);
}

function safeJson(text: string): { message?: unknown } | undefined {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Resolves after `ms`, or at once when `signal` is (or gets) aborted. */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
