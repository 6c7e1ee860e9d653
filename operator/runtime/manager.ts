import type { KubernetesObject } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { Informer } from '../../lib/informer.ts';
import { errorMessage, KubeClient } from '../../lib/kube.ts';
import type { KubeAccess } from '../../lib/kubeconfig.ts';
import type { Logger } from '../../lib/log.ts';
import { type ProbeServers, serveProbes } from '../../lib/probes.ts';
import { Controller } from './controller.ts';
import { LeaderElector, type LeaseClient, leaseClient } from './leader.ts';
import { Metrics } from './metrics.ts';
import {
  type Cache,
  type ConditionMetrics,
  type ControllerManager,
  type ControllerOptions,
  keyOf,
  type ObjectKey,
  type Resource,
} from './types.ts';

export interface LeaderElectionConfig {
  namespace: string;
  /** Default 'hookgate-operator-leader'. */
  name?: string;
  /** Unique per replica: the pod name in a cluster. */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Tests only: a Lease client other than the API server's. */
  client?: LeaseClient;
}

export interface ManagerOptions {
  kubeConfig: KubeAccess;
  log: Logger;
  /** One Registry for every metric; a fresh one when not given. */
  registry?: Registry;
  /** Watched namespaces for resources that do not name their own; empty = all. */
  namespaces?: readonly string[];
  /** Off (reconcile at once, single replica only) when false. */
  leaderElection: LeaderElectionConfig | false;
  /**
   * Called after the Lease was lost and the workers were told to stop. Default: exit with status 1,
   * as controller-runtime does, so the pod restarts clean and campaigns again.
   */
  onLeaderLost?: (reason: string) => void;
  /** Off when undefined; 0 picks a free port. */
  metricsPort?: number;
  healthPort?: number;
  /** How long a graceful stop waits for reconciles in flight before giving up (default 25 s). */
  shutdownTimeoutMs?: number;
}

const informerId = (r: Resource, namespaces: readonly string[]) =>
  `${r.group}/${r.version}/${r.plural}${r.metadataOnly ? '#metadata' : ''}?${r.labelSelector ?? ''}@${[...new Set(namespaces)].sort().join(',')}`;

/**
 * The Manager: shared informers, controllers, leader election, metrics and graceful shutdown. Each
 * controller package's `register` (`operator/controllers/<kind>/index.ts`) asks it for caches and
 * adds a controller. Caches run on every replica (a standby is warm); reconciles start once they
 * have synced, and only on the replica holding the Lease. Losing the Lease stops the workers and,
 * by default, exits (as controller-runtime); SIGTERM/SIGINT finish the reconciles in flight and
 * release the Lease, so a failover takes one retry period.
 */
export class Manager implements ControllerManager {
  readonly kubeConfig: KubeAccess;
  readonly client: KubeClient;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly conditions: ConditionMetrics;
  private readonly informers = new Map<string, Informer<KubernetesObject>>();
  private readonly controllers: Controller[] = [];
  private readonly elector: LeaderElector | undefined;
  private probes: ProbeServers | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;
  private leading = false;

  constructor(private readonly o: ManagerOptions) {
    this.kubeConfig = o.kubeConfig;
    this.client = new KubeClient(o.kubeConfig);
    this.log = o.log;
    this.metrics = new Metrics(o.registry);
    this.conditions = this.metrics.conditions;
    this.metrics.leader.set(0);
    const le = o.leaderElection;
    if (le) {
      this.elector = new LeaderElector({
        client: le.client ?? leaseClient(this.client),
        namespace: le.namespace,
        name: le.name ?? 'hookgate-operator-leader',
        identity: le.identity,
        leaseDurationMs: le.leaseDurationMs,
        renewDeadlineMs: le.renewDeadlineMs,
        retryPeriodMs: le.retryPeriodMs,
        log: o.log,
      });
    }
  }

  /** True while this replica runs reconcilers (holds the Lease, or runs without election). */
  get isLeader(): boolean {
    return this.leading;
  }

  /** Ports the probe servers listen on (after start). */
  get ports(): ProbeServers['ports'] {
    return this.probes?.ports ?? {};
  }

  cache<T extends KubernetesObject>(resource: Resource): Cache<T> {
    return this.informer(resource) as unknown as Cache<T>;
  }

  add(options: ControllerOptions): void {
    if (this.started) throw new Error('add controllers before start()');
    const { reconciler } = options;
    if (this.controllers.some((c) => c.name === reconciler.name))
      throw new Error(`controller ${reconciler.name} registered twice`);
    const controller = new Controller(reconciler, options.workers ?? 1, this.metrics, this.log);
    this.controllers.push(controller);
    const enqueue = (keys: ObjectKey[]) => {
      for (const k of keys) controller.enqueue(k);
    };
    const failed = (o: KubernetesObject, err: unknown, what: string) =>
      this.log.error({ controller: reconciler.name, ...keyOf(o), err: errorMessage(err) }, what);
    // A predicate that throws counts the update as a change: a missed reconcile is worse.
    const guarded =
      (predicate: ControllerOptions['changed']) => (a: KubernetesObject, b: KubernetesObject) => {
        try {
          return predicate?.(a, b) ?? true;
        } catch (err) {
          failed(b, err, 'predicate failed');
          return true;
        }
      };
    const own = (o: KubernetesObject) => enqueue([keyOf(o)]);
    const ownChanged = guarded(options.changed);
    this.informer(options.for).addEventHandler({
      add: own,
      update: (a, b) => {
        if (ownChanged(a, b)) own(b);
      },
      delete: own,
    });
    for (const w of options.watches ?? []) {
      // A throwing map must not break the informer that calls it.
      const map = (o: KubernetesObject) => {
        try {
          enqueue(w.map(o));
        } catch (err) {
          failed(o, err, 'watch map failed');
        }
      };
      const changed = guarded(w.changed);
      this.informer(w.resource).addEventHandler({
        add: map,
        update: (a, b) => {
          if (!changed(a, b)) return;
          map(a);
          map(b);
        },
        delete: map,
      });
    }
  }

  /** All caches have their initial list. */
  hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced());
  }

  /**
   * Starts probes and caches, then campaigns; controllers start once the caches are synced and
   * this replica leads. Resolves when probes listen (not when leading).
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.o.metricsPort !== undefined || this.o.healthPort !== undefined) {
      this.probes = await serveProbes({
        registry: this.metrics.registry,
        metricsPort: this.o.metricsPort,
        healthPort: this.o.healthPort,
        ready: () => this.hasSynced(),
      });
    }
    for (const i of this.informers.values()) i.start();
    if (!this.elector) {
      void this.lead();
      return;
    }
    void this.elector.run({
      onStartedLeading: () => void this.lead(),
      onLost: (reason) => void this.lostLease(reason),
    });
  }

  /** Resolves once every cache has synced. */
  async waitForSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
  }

  /**
   * Graceful stop: no new reconciles, wait for those in flight, hand back the Lease (only if they
   * finished, else two replicas could write at once), stop watches and probes. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /** SIGTERM/SIGINT stop gracefully and exit 0; a second signal exits at once. */
  stopOnSignals(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.stopping) {
        this.log.warn({ signal }, 'second signal, exiting now');
        process.exit(1);
      }
      this.log.info({ signal }, 'shutting down');
      this.stop().then(
        () => process.exit(0),
        (err) => {
          this.log.error({ err: errorMessage(err) }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  private informer(resource: Resource): Informer<KubernetesObject> {
    const namespaces = resource.namespaces ?? this.o.namespaces ?? [];
    const id = informerId(resource, namespaces);
    let informer = this.informers.get(id);
    // Two declarations of one informer with different transforms would each expect their own cache.
    if (informer && informer.resource.transform !== resource.transform)
      throw new Error(`${id} is declared twice with different transforms`);
    if (!informer) {
      informer = new Informer(this.kubeConfig, resource, namespaces, this.log);
      this.informers.set(id, informer);
      if (this.started) informer.start();
    }
    return informer;
  }

  private async lead(): Promise<void> {
    this.leading = true;
    this.metrics.leader.set(1);
    await this.waitForSync();
    // Lost the Lease or asked to stop while the caches were filling.
    if (!this.leading || this.stopping) return;
    this.log.info(
      { controllers: this.controllers.map((c) => c.name) },
      'caches synced, starting controllers',
    );
    for (const c of this.controllers) c.start();
  }

  private async lostLease(reason: string): Promise<void> {
    this.leading = false;
    this.metrics.leader.set(0);
    // Stop handing out keys at once; reconciles in flight cannot be cancelled and finish.
    const stopped = Promise.all(this.controllers.map((c) => c.stop()));
    (this.o.onLeaderLost ?? defaultOnLeaderLost(this.log))(reason);
    await stopped;
  }

  private async doStop(): Promise<void> {
    const timeoutMs = this.o.shutdownTimeoutMs ?? 25_000;
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.all(this.controllers.map((c) => c.stop())).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!drained)
      this.log.warn({ timeoutMs }, 'reconciles still running at shutdown; leaving the Lease to expire');
    await this.elector?.stop({ release: drained });
    this.leading = false;
    this.metrics.leader.set(0);
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    await this.probes?.close();
    this.log.info('stopped');
  }
}

function defaultOnLeaderLost(log: Logger) {
  return (reason: string) => {
    log.error({ reason }, 'leader election lost, exiting');
    process.exit(1);
  };
}
