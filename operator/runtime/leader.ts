import { apiPath, errorMessage, isConflict, isNotFound, type KubeClient, sleep } from '../../lib/kube.ts';
import type { Logger } from '../../lib/log.ts';

// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection:
// - Every write carries the resourceVersion it read, so of two replicas racing for the Lease the
//   API server lets exactly one win (the other gets 409).
// - Expiry is judged by the local clock from when this replica last *saw the Lease change*, not
//   from renewTime, so clock skew between nodes does not matter.
// - A leader that cannot renew within renewDeadline gives up, while others wait leaseDuration
//   (> renewDeadline) after the last renewal they saw before taking over: the old leader has
//   stopped before anyone else starts.
// - On loss the elector ends; it does not campaign again. The manager stops its controllers, fences
//   off their calls in flight, and campaigns again with a new elector (docs/design.md).

/** A coordination.k8s.io/v1 Lease as the API server sends it: times are RFC 3339 strings (microseconds). */
export interface Lease {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** The three Lease calls, injectable so unit tests can run electors against an in-memory Lease. */
export interface LeaseClient {
  read(namespace: string, name: string): Promise<Lease>;
  create(namespace: string, lease: Lease): Promise<Lease>;
  replace(namespace: string, name: string, lease: Lease): Promise<Lease>;
}

/** Raw JSON calls: client-node's typed CoordinationV1Api would load all its generated models. */
export function leaseClient(client: KubeClient): LeaseClient {
  const path = (namespace: string, name?: string) =>
    apiPath({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace, name });
  const body = (lease: Lease) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease });
  return {
    read: (namespace, name) => client.request<Lease>({ method: 'GET', path: path(namespace, name) }),
    create: (namespace, lease) =>
      client.request<Lease>({ method: 'POST', path: path(namespace), body: body(lease) }),
    replace: (namespace, name, lease) =>
      client.request<Lease>({ method: 'PUT', path: path(namespace, name), body: body(lease) }),
  };
}

export interface LeaderElectionOptions {
  client: LeaseClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: Logger;
}

export interface LeaderCallbacks {
  onStartedLeading(): void;
  /** Leadership was lost (not renewed in time, or taken). Not called after `stop()`. */
  onLost(reason: string): void;
}

/** metav1.MicroTime's format: RFC 3339 with six fractional digits. */
const micro = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private leading = false;
  private readonly abort = new AbortController();
  private observedVersion: string | undefined;
  private observedAt = 0;
  private lease: Lease | undefined;
  private attempt: Promise<unknown> = Promise.resolve();
  private deadline: NodeJS.Timeout | undefined;
  private callbacks: LeaderCallbacks | undefined;
  private stopped = false;

  constructor(private readonly o: LeaderElectionOptions) {
    this.leaseDurationMs = o.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = o.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = o.retryPeriodMs ?? 2_000;
    if (!(this.retryPeriodMs < this.renewDeadlineMs && this.renewDeadlineMs < this.leaseDurationMs))
      throw new Error('leader election needs retryPeriod < renewDeadline < leaseDuration');
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns until leader, then renews until lost or stopped. Resolves when leadership is over. */
  async run(callbacks: LeaderCallbacks): Promise<void> {
    this.callbacks = callbacks;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) break;
      await sleep(this.retryPeriodMs * (1 + Math.random() * 0.2), signal);
    }
    if (signal.aborted) return;
    this.leading = true;
    this.armDeadline(this.observedAt);
    this.o.log.info({ lease: this.o.name, identity: this.o.identity }, 'became leader');
    callbacks.onStartedLeading();
    while (!signal.aborted && this.leading) {
      await sleep(this.retryPeriodMs, signal);
      if (signal.aborted || !this.leading) break;
      const sentAt = Date.now();
      if (await this.tryAcquireOrRenew()) {
        if (this.leading) this.armDeadline(sentAt);
      } else if (this.lease?.spec?.holderIdentity !== this.o.identity) {
        this.lose(`lease taken by ${this.lease?.spec?.holderIdentity || 'nobody'}`);
      }
    }
  }

  /**
   * Stops campaigning or renewing. With `release` (graceful shutdown) a held Lease is handed back
   * at once, so another replica takes over within one retry period instead of a lease duration.
   * `release: false` behaves like a killed process (tests).
   */
  async stop({ release = true } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    clearTimeout(this.deadline);
    await this.attempt.catch(() => {});
    this.leading = false;
    // Also after a campaign attempt that won just as we stopped.
    if (!release || !this.lease || this.lease.spec?.holderIdentity !== this.o.identity) return;
    try {
      const now = Date.now();
      await this.o.client.replace(this.o.namespace, this.o.name, {
        ...this.lease,
        spec: {
          ...this.lease.spec,
          holderIdentity: undefined,
          leaseDurationSeconds: 1,
          acquireTime: micro(now),
          renewTime: micro(now),
        },
      });
      this.o.log.info({ lease: this.o.name }, 'released leader lease');
    } catch (err) {
      // Someone else already holds it, or the API is gone: either way it expires on its own.
      this.o.log.warn({ lease: this.o.name, err: errorMessage(err) }, 'could not release leader lease');
    }
  }

  private armDeadline(renewedAt: number): void {
    clearTimeout(this.deadline);
    const ms = renewedAt + this.renewDeadlineMs - Date.now();
    this.deadline = setTimeout(() => this.lose(`not renewed within ${this.renewDeadlineMs} ms`), ms);
  }

  private lose(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    clearTimeout(this.deadline);
    this.abort.abort();
    this.o.log.warn({ lease: this.o.name, reason }, 'lost leadership');
    this.callbacks?.onLost(reason);
  }

  private tryAcquireOrRenew(): Promise<boolean> {
    const attempt = this.acquireOrRenew().catch((err) => {
      if (!isConflict(err))
        this.o.log.warn({ lease: this.o.name, err: errorMessage(err) }, 'lease update failed');
      return false;
    });
    this.attempt = attempt;
    return attempt;
  }

  private observe(lease: Lease, now: number): void {
    this.lease = lease;
    if (lease.metadata?.resourceVersion !== this.observedVersion) {
      this.observedVersion = lease.metadata?.resourceVersion;
      this.observedAt = now;
    }
  }

  private async acquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.o;
    const now = Date.now();
    const leaseDurationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    let current: Lease;
    try {
      current = await client.read(namespace, name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const created = await client.create(namespace, {
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds,
          acquireTime: micro(now),
          renewTime: micro(now),
          leaseTransitions: 0,
        },
      });
      this.observe(created, now);
      return true;
    }
    this.observe(current, now);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const validFor = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder && holder !== identity && this.observedAt + validFor > now) return false;
    // Once deposed, never write again: the renew loop ends instead.
    if (this.abort.signal.aborted) return false;
    const mine = holder === identity;
    const updated = await client.replace(namespace, name, {
      ...current,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        renewTime: micro(now),
        acquireTime: mine ? spec.acquireTime : micro(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    });
    this.observe(updated, now);
    return true;
  }
}
