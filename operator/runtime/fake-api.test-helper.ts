import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiException, KubeConfig, type KubernetesObject, type V1Lease } from '@kubernetes/client-node';
import type { LeaseClient } from './leader.ts';

// For unit tests only: a small fake of the API server's list and watch endpoints for ConfigMaps,
// to drive what a real one produces rarely (410 Gone, a failed watch, a stream closed by the server).

/** Label selectors of the forms `key` and `key=value` (all the tests need); objects without metadata (bookmarks) pass. */
function matches(o: KubernetesObject, selector: string | null | undefined): boolean {
  if (!selector || !o.metadata?.name) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    const actual = o.metadata?.labels?.[k!];
    return v === undefined ? actual !== undefined : actual === v;
  });
}

export class FakeApi {
  objects = new Map<string, KubernetesObject>();
  rv = 100;
  requests: URL[] = [];
  watches: http.ServerResponse[] = [];
  private selectors = new Map<http.ServerResponse, string | null>();
  /** Answer the next watch requests with this status instead of a stream. */
  failWatches: number[] = [];
  server = http.createServer((req, res) => this.handle(req, res));

  async listen(): Promise<KubeConfig> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'c',
          server: `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`,
          skipTLSVerify: true,
        },
      ],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return kc;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  /** Stores an object (new resourceVersion) without telling watchers. */
  put(
    namespace: string,
    name: string,
    data: Record<string, string> = {},
    labels: Record<string, string> = {},
  ): KubernetesObject {
    const obj = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { namespace, name, labels, resourceVersion: String(++this.rv) },
      data,
    };
    this.objects.set(`${namespace}/${name}`, obj);
    return obj;
  }

  send(type: string, object: unknown): void {
    for (const w of this.watches)
      if (matches(object as KubernetesObject, this.selectors.get(w)))
        w.write(`${JSON.stringify({ type, object })}\n`);
  }

  endWatches(): void {
    for (const w of this.watches.splice(0)) w.end();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(url);
    const ns = url.pathname.match(/\/namespaces\/([^/]+)\//)?.[1];
    if (url.searchParams.get('watch') === 'true') {
      const fail = this.failWatches.shift();
      if (fail) {
        res.writeHead(fail).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      this.watches.push(res);
      this.selectors.set(res, url.searchParams.get('labelSelector'));
      return;
    }
    const selector = url.searchParams.get('labelSelector');
    const items = [...this.objects.values()].filter(
      (o) => (!ns || o.metadata?.namespace === ns) && matches(o, selector),
    );
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'ConfigMapList', metadata: { resourceVersion: String(this.rv) }, items }));
  }
}

/** A Lease store with the API server's optimistic concurrency: a write with a stale resourceVersion gets 409. */
export class FakeLeases {
  lease: V1Lease | undefined;
  private version = 0;
  writes: string[] = [];

  client(who: string, isUp: () => boolean = () => true): LeaseClient {
    const guard = () => {
      if (!isUp()) throw new Error('connect ECONNREFUSED');
    };
    return {
      read: async () => {
        guard();
        if (!this.lease) throw new ApiException(404, 'not found', {}, {});
        return JSON.parse(JSON.stringify(this.lease));
      },
      create: async (_ns, lease) => {
        guard();
        if (this.lease) throw new ApiException(409, 'exists', {}, {});
        return this.store(who, lease);
      },
      replace: async (_ns, _name, lease) => {
        guard();
        if (lease.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion)
          throw new ApiException(409, 'conflict', {}, {});
        return this.store(who, lease);
      },
    };
  }

  get holder(): string | undefined {
    return this.lease?.spec?.holderIdentity;
  }

  private store(who: string, lease: V1Lease): V1Lease {
    this.version++;
    this.lease = JSON.parse(
      JSON.stringify({ ...lease, metadata: { ...lease.metadata, resourceVersion: String(this.version) } }),
    );
    this.writes.push(who);
    return JSON.parse(JSON.stringify(this.lease));
  }
}
