// One watch request over node:https: the API server's newline-delimited JSON events, one callback
// each. Not client-node's Watch, which pulls in node-fetch and, through KubeConfig, every generated
// model (see lib/kubeconfig.ts).
import http from 'node:http';
import https from 'node:https';
import { ApiError } from './api-error.ts';
import { kubeObserver } from './kube-metrics.ts';
import type { KubeAccess } from './kubeconfig.ts';
import { TextPieces } from './text-pieces.ts';

/**
 * Watches `path` with `query` (watch=true is added): resolves when the server ends the stream,
 * rejects on a failed request (ApiError with the API server's status) or a broken connection, and
 * stops quietly when `signal` aborts.
 */
export async function watchJSON<T>(
  kc: KubeAccess,
  path: string,
  query: Record<string, string>,
  onEvent: (type: string, obj: T) => void,
  signal: AbortSignal,
  /** e.g. PartialObjectMetadata for a metadata-only watch. */
  accept = 'application/json',
): Promise<void> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server + path);
  for (const [k, v] of Object.entries({ ...query, watch: 'true' })) url.searchParams.set(k, v);
  const opts: https.RequestOptions = { method: 'GET' };
  await kc.applyToHTTPSOptions(opts);
  opts.headers = { ...opts.headers, Accept: accept };
  if (signal.aborted) return;
  const observer = kubeObserver(kc);
  const request = { method: 'GET', path, query: { watch: 'true' } };
  let answered = false;
  return new Promise<void>((resolve, reject) => {
    const req = (url.protocol === 'http:' ? http : https).request(url, opts, (res) => {
      const code = res.statusCode ?? 0;
      // A watch is counted when it is answered (its duration is the stream's, not a latency).
      answered = true;
      observer?.observe(request, code, 0);
      // Split at newlines, each line decoded once: an event can be a whole 1 MiB Secret, and
      // decoding every chunk into a string ran megabytes through the young generation, which grew
      // and stayed grown (operator RSS +38 MiB for 150 such Secrets that it then drops).
      const line = new TextPieces();
      const refusal: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        if (code !== 200) {
          refusal.push(chunk);
          return;
        }
        let start = 0;
        for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
          const text = line.take(chunk.subarray(start, nl));
          start = nl + 1;
          if (text.length === 0) continue;
          try {
            const event = JSON.parse(text) as { type: string; object: T };
            onEvent(event.type, event.object);
          } catch (err) {
            req.destroy();
            return reject(err);
          }
        }
        if (start < chunk.length) line.push(chunk.subarray(start));
      });
      res.on('end', () =>
        code === 200
          ? resolve()
          : reject(new ApiError(code, `GET ${path}`, Buffer.concat(refusal).toString('utf8'))),
      );
      res.on('error', (err) => (signal.aborted ? resolve() : reject(err)));
    });
    const abort = () => req.destroy();
    signal.addEventListener('abort', abort, { once: true });
    req.on('close', () => signal.removeEventListener('abort', abort));
    req.on('error', (err) => {
      if (signal.aborted) return resolve();
      if (!answered) observer?.observe(request, undefined, 0);
      reject(err);
    });
    req.end();
  });
}
