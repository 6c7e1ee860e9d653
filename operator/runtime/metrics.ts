import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConditionMetrics, ObjectKey } from './types.ts';

export type ReconcileResult = 'success' | 'error' | 'requeue' | 'requeue_after' | 'terminal';

/** The operator's metrics, all in one injected Registry so tests can read them. */
export class Metrics {
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly reconcileDuration: Histogram<'controller'>;
  readonly condition: Gauge<'kind' | 'namespace' | 'name' | 'type' | 'status'>;
  readonly leader: Gauge;
  readonly queueDepth: Gauge<'name'>;
  readonly conditions: ConditionMetrics;

  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    this.reconcileTotal = new Counter({
      name: 'hookgate_reconcile_total',
      help: 'Reconciles by controller and result.',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'hookgate_reconcile_errors_total',
      help: 'Reconciles that failed.',
      labelNames: ['controller'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'hookgate_reconcile_duration_seconds',
      help: 'Time spent in one reconcile.',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.condition = new Gauge({
      name: 'hookgate_condition',
      help: 'Current conditions of hookgate objects (1 per present condition and status).',
      labelNames: ['kind', 'namespace', 'name', 'type', 'status'],
      registers,
    });
    this.leader = new Gauge({
      name: 'hookgate_leader',
      help: '1 while this replica holds the leader Lease.',
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'hookgate_workqueue_depth',
      help: 'Keys waiting in a controller work queue.',
      labelNames: ['name'],
      registers,
    });
    this.conditions = conditionTracker(this.condition);
  }
}

function conditionTracker(gauge: Metrics['condition']): ConditionMetrics {
  // The series last set per object, so a changed status or a vanished condition leaves no stale series.
  const current = new Map<string, { type: string; status: string }[]>();
  const id = (kind: string, k: ObjectKey) => `${kind}/${k.namespace}/${k.name}`;
  const drop = (kind: string, k: ObjectKey) => {
    for (const c of current.get(id(kind, k)) ?? [])
      gauge.remove({ kind, namespace: k.namespace, name: k.name, type: c.type, status: c.status });
    current.delete(id(kind, k));
  };
  return {
    set(kind, k, conditions) {
      drop(kind, k);
      const series = conditions.map(({ type, status }) => ({ type, status }));
      for (const c of series) gauge.set({ kind, namespace: k.namespace, name: k.name, ...c }, 1);
      current.set(id(kind, k), series);
    },
    delete: drop,
  };
}

export interface ProbeOptions {
  registry: Registry;
  /** Off when undefined; 0 picks a free port (tests). */
  metricsPort?: number;
  healthPort?: number;
  /** /readyz answers 200 only when this is true (caches synced). */
  ready: () => boolean;
  host?: string;
}

export interface ProbeServers {
  /** Actual ports (useful when 0 asks for any free one in tests). */
  ports: { metrics?: number; health?: number };
  close(): Promise<void>;
}

/**
 * Serves /metrics on metricsPort and /healthz, /readyz on healthPort (one server when equal).
 */
export async function serveProbes(o: ProbeOptions): Promise<ProbeServers> {
  const metrics = async (res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': o.registry.contentType });
    res.end(await o.registry.metrics());
  };
  const probe = (res: http.ServerResponse, ok: boolean) => {
    res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(ok ? 'ok\n' : 'not ready\n');
  };
  const handler =
    (paths: { metrics: boolean; health: boolean }) =>
    (req: http.IncomingMessage, res: http.ServerResponse) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405).end();
      } else if (paths.metrics && path === '/metrics') {
        metrics(res).catch(() => res.writeHead(500).end());
      } else if (paths.health && path === '/healthz') {
        probe(res, true);
      } else if (paths.health && path === '/readyz') {
        probe(res, o.ready());
      } else {
        res.writeHead(404).end();
      }
    };
  const listen = (port: number, paths: { metrics: boolean; health: boolean }) =>
    new Promise<http.Server>((resolve, reject) => {
      const server = http.createServer(handler(paths));
      server.once('error', reject);
      server.listen(port, o.host, () => resolve(server));
    });
  const servers: http.Server[] = [];
  const ports: ProbeServers['ports'] = {};
  const portOf = (s: http.Server) => (s.address() as AddressInfo).port;
  if (o.metricsPort !== undefined && o.metricsPort === o.healthPort && o.metricsPort !== 0) {
    const s = await listen(o.metricsPort, { metrics: true, health: true });
    servers.push(s);
    ports.metrics = ports.health = portOf(s);
  } else {
    if (o.metricsPort !== undefined) {
      const s = await listen(o.metricsPort, { metrics: true, health: false });
      servers.push(s);
      ports.metrics = portOf(s);
    }
    if (o.healthPort !== undefined) {
      const s = await listen(o.healthPort, { metrics: false, health: true });
      servers.push(s);
      ports.health = portOf(s);
    }
  }
  return {
    ports,
    close: () =>
      Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      ).then(() => {}),
  };
}
