import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { Labels, ROUTE_KEY, type Route, RouteSchema } from '../api/v1alpha1/index.ts';
import { Informer } from '../lib/informer.ts';
import { SECRETS } from '../lib/kube.ts';
import type { KubeAccess } from '../lib/kubeconfig.ts';
import type { Logger } from '../lib/log.ts';
import type { RouteTable } from './types.ts';

/** A route Secret as the cache keeps it: its route parsed once, not the Secret's base64 copy of it. */
type RouteSecret = KubernetesObject & { route?: Route };

interface SharedPart {
  part: unknown;
  users: number;
  key: string;
}

/** Told when a trigger gets a route (also a new version of it) and when its last route goes. */
export interface RouteListener {
  served(route: Route): void;
  gone(route: Route): void;
}

/**
 * The routes the operator publishes as Secrets (label `hookgate.io/route=true`) in the ingress's own
 * namespace, indexed by path. Each change swaps in a new Route object and never edits one, so a
 * request keeps the route it matched while the table moves on.
 */
export class RouteStore implements RouteTable {
  private readonly byPath = new Map<string, { secret: string; route: Route }>();
  /** The route each route Secret serves (its path may be served by another Secret since). */
  private readonly routeOf = new Map<string, Route>();
  /**
   * One copy of each part of a route equal in many (the Workflow spec, its job template most of a
   * route; the signature's verifier, limits, input and response settings) for all the routes that
   * carry it, by its JSON and by the shared object, with how many routes use it: 10,000 routes of a
   * few Workflows held 10,000 copies. A route is never edited, so neither is a part.
   */
  private readonly parts = new Map<string, SharedPart>();
  private readonly partsByObject = new Map<unknown, SharedPart>();
  private readonly informer: Informer<RouteSecret>;

  constructor(
    kc: KubeAccess,
    readonly namespace: string,
    private readonly log: Logger,
    private readonly listener?: RouteListener,
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
      delete: (s) => this.announceGone(this.remove(s.metadata?.name ?? '')),
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
    const old = this.remove(name);
    if (old && old.path !== route?.path) this.announceGone(old);
    if (!route) return;
    // Before the route is served: once served, a route is never edited.
    const share = <T>(part: T): T => this.shared(part);
    route.workflow.spec = share(route.workflow.spec);
    if (route.auth.signature?.verifier) route.auth.signature.verifier = share(route.auth.signature.verifier);
    route.rateLimit = share(route.rateLimit);
    route.input = share(route.input);
    route.response = share(route.response);
    this.byPath.set(route.path, { secret: name, route });
    this.routeOf.set(name, route);
    this.listener?.served(route);
  }

  /** A route removed: gone for its trigger unless another Secret serves the same path. */
  private announceGone(route: Route | undefined) {
    if (route && !this.byPath.has(route.path)) this.listener?.gone(route);
  }

  private shared<T>(part: T): T {
    if (part === undefined) return part;
    const key = JSON.stringify(part);
    const entry = this.parts.get(key) ?? { part, users: 0, key };
    entry.users += 1;
    this.parts.set(key, entry);
    this.partsByObject.set(entry.part, entry);
    return entry.part as T;
  }

  /** The parts `shared` gave a route, given back: the last user of a part drops it. */
  private release(route: Route) {
    const { workflow, auth, rateLimit, input, response } = route;
    for (const part of [workflow.spec, auth.signature?.verifier, rateLimit, input, response]) {
      const entry = part === undefined ? undefined : this.partsByObject.get(part);
      if (!entry || --entry.users > 0) continue;
      this.parts.delete(entry.key);
      this.partsByObject.delete(part);
    }
  }

  /** Drops what `secret` served; returns the route it served. */
  private remove(secret: string): Route | undefined {
    const route = this.routeOf.get(secret);
    if (!route) return undefined;
    this.routeOf.delete(secret);
    this.release(route);
    const served = this.byPath.get(route.path);
    if (served?.secret !== secret) return undefined;
    this.byPath.delete(route.path);
    return served.route;
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
