import { ApiException, KubeConfig } from '@kubernetes/client-node';

/** In-cluster config when running in a pod, otherwise $KUBECONFIG / ~/.kube/config. */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}

/** HTTP status of a failed API call, or undefined for network errors. */
export function statusOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code =
    (err as { code?: unknown; statusCode?: unknown })?.statusCode ?? (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (err: unknown) => statusOf(err) === 404;
export const isConflict = (err: unknown) => statusOf(err) === 409;

/**
 * A short, log-safe description: the status code and the API server's message. ApiException's own
 * message embeds the whole response (an object's data), and a JSON SyntaxError quotes its input, so
 * neither is used.
 */
export function errorMessage(err: unknown): string {
  const code = statusOf(err);
  if (code !== undefined) {
    let body = (err as { body?: unknown }).body;
    if (typeof body === 'string' && body.startsWith('{')) {
      try {
        body = JSON.parse(body);
      } catch {}
    }
    const message = (body as { message?: unknown } | undefined)?.message;
    return `HTTP ${code}${typeof message === 'string' && message ? `: ${message.slice(0, 500)}` : ''}`;
  }
  const e = err as { name?: string; code?: unknown; message?: unknown } | undefined;
  if (e?.name === 'SyntaxError') return 'SyntaxError';
  const name = e?.name === 'Error' ? undefined : e?.name;
  const text = [name, e?.code, e?.message].filter((x) => x !== undefined && x !== '').join(': ');
  return (text || String(err)).slice(0, 500);
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
