import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConditionMetrics, ObjectKey } from './types.ts';

export const RECONCILE_RESULTS = ['success', 'error', 'requeue', 'requeue_after', 'terminal'] as const;
export type ReconcileResult = (typeof RECONCILE_RESULTS)[number];

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
