import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { Labels, ROUTE_KEY, type Route, RouteSchema } from '../api/v1alpha1/index.ts';
import { Informer } from '../lib/informer.ts';
import { SECRETS } from '../lib/kube.ts';
import type { KubeAccess } from '../lib/kubeconfig.ts';
import type { Logger } from '../lib/log.ts';
import type { RouteTable } from './types.ts';

/** A route Secret as the cache keeps it: its route parsed once, not the Secret's base64 copy of it. */
type RouteSecret = KubernetesObject & { route?: Route };

/**
 * The routes the operator publishes as Secrets (label `hookgate.io/route=true`) in the ingress's own
 * namespace, indexed by path. Each change swaps in a new Route object and never edits one, so a
 * request keeps the route it matched while the table moves on.
 */
export class RouteStore implements RouteTable {
  private readonly byPath = new Map<string, { secret: string; route: Route }>();
  private readonly pathOf = new Map<string, string>();
  /**
   * One copy of each Workflow spec (its job template is most of a route) for all the routes that
   * carry it, with the route Secrets using it: 10,000 routes of a few Workflows held 10,000 copies.
   */
  private readonly specs = new Map<string, { spec: Route['workflow']['spec']; secrets: Set<string> }>();
  private readonly specOf = new Map<string, string>();
  private readonly informer: Informer<RouteSecret>;

  constructor(
    kc: KubeAccess,
    readonly namespace: string,
    private readonly log: Logger,
  ) {
    const secrets = {
      ...SECRETS,
      labelSelector: `${Labels.route}=true`,
      transform: (s: V1Secret): RouteSecret => {
        const { name, namespace, resourceVersion } = s.metadata ?? {};
        return {
          metadata: { name, namespace, resourceVersion },
          route: this.parse(name ?? '', s.data?.[ROUTE_KEY]),
        };
      },
    };
    this.informer = new Informer<RouteSecret>(kc, secrets, [namespace], log);
    this.informer.addEventHandler({
      add: (s) => this.upsert(s),
      update: (_old, s) => this.upsert(s),
      delete: (s) => this.remove(s.metadata?.name ?? ''),
    });
  }

  get ready(): boolean {
    return this.informer.hasSynced();
  }

  /** Starts watching; resolves once the first list is loaded (the watch goes on in the background). */
  start(): Promise<void> {
    this.informer.start();
    return this.informer.waitForSync();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  match(path: string): Route | undefined {
    return this.byPath.get(path)?.route;
  }

  get size(): number {
    return this.byPath.size;
  }

  private upsert(secret: RouteSecret) {
    const name = secret.metadata?.name ?? '';
    const { route } = secret;
    // An unusable update drops the old route too: serving stale credentials is worse than a 404.
    this.remove(name);
    if (!route) return;
    // Before the route is served: once served, a route is never edited.
    route.workflow.spec = this.shared(name, route.workflow.spec);
    this.byPath.set(route.path, { secret: name, route });
    this.pathOf.set(name, route.path);
  }

  private shared(secret: string, spec: Route['workflow']['spec']): Route['workflow']['spec'] {
    const key = JSON.stringify(spec);
    const entry = this.specs.get(key) ?? { spec, secrets: new Set<string>() };
    entry.secrets.add(secret);
    this.specs.set(key, entry);
    this.specOf.set(secret, key);
    return entry.spec;
  }

  private remove(secret: string) {
    const key = this.specOf.get(secret);
    if (key !== undefined) {
      this.specOf.delete(secret);
      const entry = this.specs.get(key);
      entry?.secrets.delete(secret);
      if (entry?.secrets.size === 0) this.specs.delete(key);
    }
    const path = this.pathOf.get(secret);
    if (path === undefined) return;
    this.pathOf.delete(secret);
    if (this.byPath.get(path)?.secret === secret) this.byPath.delete(path);
  }

  /** Logs what is wrong, never the content: a route holds credentials. */
  private parse(secret: string, data: string | undefined): Route | undefined {
    if (!data) {
      this.log.error({ secret, key: ROUTE_KEY }, 'route Secret has no route, skipped');
      return undefined;
    }
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
    } catch {
      this.log.error({ secret }, 'route is not JSON, skipped');
      return undefined;
    }
    const parsed = RouteSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.code}`);
      this.log.error({ secret, issues }, 'route does not match the schema, skipped');
      return undefined;
    }
    return parsed.data;
  }
}
