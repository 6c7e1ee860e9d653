import type { KubernetesObject } from '@kubernetes/client-node';
import { Informer } from '../lib/informer.ts';
import type { KubeAccess } from '../lib/kubeconfig.ts';
import type { Logger } from '../lib/log.ts';

/** What of an EndpointSlice the peer count needs: the addresses of its ready endpoints. */
interface Slice extends KubernetesObject {
  ready: string[];
}

interface RawSlice extends KubernetesObject {
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean | null } }[] | null;
}

/**
 * The ingress replicas behind the Service, from its EndpointSlices, so each replica can enforce its
 * share of a trigger's rate limit and the limit holds cluster-wide (behind an even load balancer)
 * without a shared counter. An endpoint counts unless it is known not ready (Kubernetes: a nil
 * `ready` means ready).
 */
export class Peers {
  private readonly slices: Informer<Slice>;

  constructor(
    kc: KubeAccess,
    namespace: string,
    service: string,
    /** This replica's address (the pod IP): its rank decides who gets the remainder of a division. */
    private readonly self: string | undefined,
    log: Logger,
  ) {
    this.slices = new Informer<Slice>(
      kc,
      {
        group: 'discovery.k8s.io',
        version: 'v1',
        plural: 'endpointslices',
        labelSelector: `kubernetes.io/service-name=${service}`,
        transform: (o) => {
          const raw = o as RawSlice;
          const ready = (raw.endpoints ?? [])
            .filter((e) => e.conditions?.ready !== false)
            .flatMap((e) => e.addresses ?? []);
          const { namespace, name, resourceVersion } = raw.metadata ?? {};
          return { metadata: { namespace, name, resourceVersion }, ready } as Slice;
        },
      },
      [namespace],
      log,
    );
  }

  start(): void {
    this.slices.start();
  }

  /** True once the first list is in: until then shares would be the whole limit. */
  get ready(): boolean {
    return this.slices.hasSynced();
  }

  stop(): Promise<void> {
    return this.slices.stop();
  }

  /** Ready replicas, sorted; empty until the first list (or when none is ready yet). */
  addresses(): string[] {
    return [...new Set(this.slices.list().flatMap((s) => s.ready))].sort();
  }

  /** This replica's share of `limit`; the whole limit while alone or while the peers are unknown. */
  share(limit: number): number {
    return shareOf(limit, this.addresses(), this.self);
  }
}

/**
 * `limit` split over the ready replicas: each gets floor(limit / n), and the first `limit mod n` by
 * address one more, so the shares add up to the limit exactly; but never 0 while the limit is above
 * 0 (with 2 replicas and a limit of 1, a share of 0 would refuse half of all deliveries forever), so
 * with fewer requests than replicas each admits 1 and the cluster admits up to n. A replica that
 * does not find itself among them (not ready yet, address unknown) takes the rounded-up share: a
 * little over the limit for a moment rather than refusing what the others would accept.
 */
export function shareOf(limit: number, ready: readonly string[], self: string | undefined): number {
  const n = ready.length;
  if (n <= 1 || limit <= 0) return limit;
  const rank = self === undefined ? -1 : ready.indexOf(self);
  if (rank < 0) return Math.ceil(limit / n);
  return Math.max(1, Math.floor(limit / n) + (rank < limit % n ? 1 : 0));
}
