import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { GROUP, VERSION } from '../api/v1alpha1/index.ts';
import { ApiError } from './api-error.ts';
import { kubeObserver } from './kube-metrics.ts';
import type { KubeAccess } from './kubeconfig.ts';
import { ListSplitter } from './list-stream.ts';

// No value import of @kubernetes/client-node here or in anything the components load: its index
// loads every generated model and API class (~70 MiB of RSS; see lib/kubeconfig.ts).

/** Every call to the API server has a deadline: a hung server must fail a call, not park its caller. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** HTTP status of a failed API call, or undefined for network errors. */
export function statusOf(err: unknown): number | undefined {
  const code =
    (err as { code?: unknown; statusCode?: unknown })?.statusCode ?? (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (err: unknown) => statusOf(err) === 404;
export const isConflict = (err: unknown) => statusOf(err) === 409;

/**
 * The API server refused the object itself: 400 (undecodable, or unknown fields under strict
 * validation), 403 (RBAC or an admission policy), 422 (invalid). Sending it again fails the same way.
 */
export function isRefused(err: unknown): boolean {
  const code = statusOf(err);
  return code === 400 || code === 403 || code === 422;
}

/** The message of the Status an API error carries (its body, parsed or not), or ''. */
export function statusMessage(err: unknown): string {
  let body = (err as { body?: unknown } | undefined)?.body;
  if (typeof body === 'string' && body.startsWith('{')) {
    try {
      body = JSON.parse(body);
    } catch {}
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : '';
}

/**
 * A short, log-safe description: the status code and the API server's message. ApiException's own
 * message embeds the whole response (an object's data), and a JSON SyntaxError quotes its input, so
 * neither is used.
 */
export function errorMessage(err: unknown): string {
  const code = statusOf(err);
  if (code !== undefined) {
    const message = statusMessage(err);
    return `HTTP ${code}${message ? `: ${message.slice(0, 500)}` : ''}`;
  }
  const e = err as { name?: string; code?: unknown; message?: unknown } | undefined;
  if (e?.name === 'SyntaxError') return 'SyntaxError';
  const name = e?.name === 'Error' ? undefined : e?.name;
  const text = [name, e?.code, e?.message].filter((x) => x !== undefined && x !== '').join(': ');
  return (text || String(err)).slice(0, 500);
}

/**
 * `err` for a log line or a condition: `action` and the status with the API server's message, never
 * the request or the response body. It is still an API error to `statusOf` and `statusMessage`.
 */
export function apiError(action: string, err: unknown): Error {
  const code = statusOf(err);
  if (code === undefined) return err instanceof Error ? err : new Error(String(err));
  const body = (err as { body?: unknown }).body;
  return new ApiError(
    code,
    action,
    typeof body === 'string' ? body : JSON.stringify(body ?? ''),
    statusMessage(err),
  );
}

/** Resolves after `ms`, or at once when `signal` is (or gets) aborted. */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

export interface JSONRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
  /** Sent as JSON exactly as given: the typed clients' models drop fields they do not know. */
  body?: unknown;
  /** Default application/json; e.g. application/apply-patch+yaml for server-side apply. */
  contentType?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Default `application/json`; e.g. a PartialObjectMetadata list asks for metadata only. */
  accept?: string;
  /** A keep-alive agent to use instead of the new one `applyToHTTPSOptions` builds per call. */
  agent?: https.Agent;
}

/**
 * One API request with a raw JSON body and answer, without client-node's models and middleware.
 * Credentials are applied per call, so a rotated ServiceAccount token is picked up. Failures are
 * ApiError (so `statusOf` and `errorMessage` work on them) or, at the timeout, a TimeoutError.
 */
export function requestJSON<T>(kc: KubeAccess, r: JSONRequest): Promise<T> {
  return send(kc, r, (res, what, resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const code = res.statusCode ?? 0;
      if (code < 200 || code >= 300) return reject(new ApiError(code, what, text));
      try {
        resolve((text ? JSON.parse(text) : undefined) as T);
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** An error body is kept up to this size: a Status is small, and nothing else is read from it. */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * A list request whose items are parsed one by one as the answer streams (`ListSplitter`), each
 * handed to `onItem` (which should keep only what it needs); resolves with the list's metadata.
 * The page is never held whole, however large its objects.
 */
export function listJSON<T>(
  kc: KubeAccess,
  r: JSONRequest,
  onItem: (item: T) => void,
): Promise<{ resourceVersion?: string; continue?: string } | undefined> {
  return send(kc, r, (res, what, resolve, reject) => {
    const code = res.statusCode ?? 0;
    const failed = code < 200 || code >= 300;
    const splitter = new ListSplitter<T>(onItem);
    const error: Buffer[] = [];
    let errorBytes = 0;
    res.on('data', (c: Buffer) => {
      if (failed) {
        if (errorBytes < MAX_ERROR_BODY) error.push(c);
        errorBytes += c.length;
        return;
      }
      try {
        splitter.write(c);
      } catch (err) {
        res.destroy(err as Error);
      }
    });
    res.on('end', () => {
      if (failed) return reject(new ApiError(code, what, Buffer.concat(error).toString('utf8')));
      try {
        resolve(splitter.end().metadata as { resourceVersion?: string; continue?: string } | undefined);
      } catch (err) {
        reject(err);
      }
    });
  });
}

type Answer<T> = (
  res: http.IncomingMessage,
  what: string,
  resolve: (value: T) => void,
  reject: (err: unknown) => void,
) => void;

/**
 * One request to the API server with the caller's deadline and credentials; `answer` reads the
 * response. Observed (hookgate_kube_*) when the process has a kube observer.
 */
async function send<T>(kc: KubeAccess, r: JSONRequest, answer: Answer<T>): Promise<T> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server + r.path);
  for (const [k, v] of Object.entries(r.query ?? {})) url.searchParams.set(k, v);
  const payload = r.body === undefined ? undefined : Buffer.from(JSON.stringify(r.body));
  const opts: https.RequestOptions = { method: r.method, timeout: r.timeoutMs, signal: r.signal };
  await kc.applyToHTTPSOptions(opts);
  if (r.agent) opts.agent = r.agent;
  opts.headers = {
    ...opts.headers,
    Accept: r.accept ?? 'application/json',
    ...(payload
      ? { 'Content-Type': r.contentType ?? 'application/json', 'Content-Length': payload.length }
      : {}),
  };
  const what = `${r.method} ${r.path}`;
  let answered: number | undefined;
  const t0 = performance.now();
  const result = new Promise<T>((resolve, reject) => {
    const req = (url.protocol === 'http:' ? http : https).request(url, opts, (res) => {
      answered = res.statusCode ?? 0;
      res.on('error', reject);
      answer(res, what, resolve, reject);
    });
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error(`${what}: timed out`), { name: 'TimeoutError' })),
    );
    req.on('error', reject);
    req.end(payload);
  });
  const observer = kubeObserver(kc);
  if (observer) {
    const report = () => observer.observe(r, answered, (performance.now() - t0) / 1000);
    result.then(report, report);
  }
  return result;
}

/** One TLS connection kept alive per client: client-node builds a new agent, so a new handshake, per call. */
async function keepAliveAgent(kc: KubeAccess): Promise<https.Agent | undefined> {
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
 * The one way both components talk to the API server: raw JSON requests over a kept-alive
 * connection, each with a deadline.
 */
export class KubeClient {
  #agent: Promise<https.Agent | undefined> | undefined;

  constructor(
    readonly kc: KubeAccess,
    readonly timeoutMs = DEFAULT_TIMEOUT_MS,
    /** Aborts every call in flight when it fires (the operator's leadership term; see Manager). */
    private readonly fence?: () => AbortSignal,
  ) {}

  private agent(): Promise<https.Agent | undefined> {
    this.#agent ??= keepAliveAgent(this.kc);
    return this.#agent;
  }

  async request<T>(r: Omit<JSONRequest, 'timeoutMs' | 'agent'> & { timeoutMs?: number }): Promise<T> {
    const fence = this.fence?.();
    const signal = fence && r.signal ? AbortSignal.any([fence, r.signal]) : (fence ?? r.signal);
    return requestJSON<T>(this.kc, { timeoutMs: this.timeoutMs, ...r, signal, agent: await this.agent() });
  }
}

/** Network errors, timeouts, 429 and 5xx: the API server cannot take the call now. */
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

/** The built-in collections both components call, one spelling each (with `apiPath`, informers). */
export const SECRETS = { group: '', version: 'v1', plural: 'secrets' } as const;
export const PODS = { group: '', version: 'v1', plural: 'pods' } as const;
export const JOBS = { group: 'batch', version: 'v1', plural: 'jobs' } as const;

/** The URL path of a collection, or of one object (and a subresource) when `name` is given. */
export function apiPath(r: {
  group: string;
  version: string;
  plural: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}): string {
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const collection = r.namespace ? `${base}/namespaces/${r.namespace}/${r.plural}` : `${base}/${r.plural}`;
  if (r.name === undefined) return collection;
  return `${collection}/${encodeURIComponent(r.name)}${r.subresource ? `/${r.subresource}` : ''}`;
}

/** The status subresource of a hookgate.io object (`plural`: one of our kinds). */
export const statusPath = (plural: string, namespace: string, name: string) =>
  apiPath({ group: GROUP, version: VERSION, plural, namespace, name, subresource: 'status' });

/**
 * The Accept header that asks for PartialObjectMetadata: only an object's metadata, for a list
 * (`PartialObjectMetadataList`), a watch, or the answer to a create (when the caller needs no more
 * than the new object's uid: the API server then encodes, and the caller parses, a fraction of it).
 */
export const metadataAccept = (list = false) =>
  `application/json;as=PartialObjectMetadata${list ? 'List' : ''};g=meta.k8s.io;v=v1`;

/** Server-side apply's patch type; the body is JSON, which is YAML. */
export const APPLY_PATCH = 'application/apply-patch+yaml';
