import { setMaxListeners } from 'node:events';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiError } from './api-error.ts';
import { apiPath, errorMessage, listJSON, metadataAccept, sleep, statusOf } from './kube.ts';
import type { KubeAccess } from './kubeconfig.ts';
import { limiter } from './limit.ts';
import type { Logger } from './log.ts';
import { watchJSON } from './watch.ts';

// List + watch per namespace (or once cluster-wide), like client-go's reflector: list, watch from
// the list's resourceVersion, rewatch from the last seen version when the server closes the
// stream, relist on 410 Gone, back off on other errors, forever. Our own loop rather than
// client-node's makeInformer: that one stops for good on a failed relist unless restarted from its
// error event, and its watch has no timeout, so a silently dead connection is never noticed.
// Objects are kept as the raw JSON the API server sent (client-node's typed list calls would turn
// timestamps into Date objects while watch events keep strings).

export interface ObjectKey {
  namespace: string;
  name: string;
}

export const keyOf = (o: KubernetesObject): ObjectKey => ({
  namespace: o.metadata?.namespace ?? '',
  name: o.metadata?.name ?? '',
});
export const keyString = (k: ObjectKey) => `${k.namespace}/${k.name}`;

/** Read access to an informer's cache. */
export interface Cache<T extends KubernetesObject> {
  get(key: ObjectKey): T | undefined;
  list(namespace?: string): T[];
  /**
   * Keeps what the transform makes of `obj`, a fresh read of a cached object at the same
   * resourceVersion: for a transform whose verdict depends on another cache that has since caught
   * up (a credentials Secret listed before its WebhookTrigger).
   */
  refresh?(obj: T): void;
}

/** What to list and watch: a collection and an optional label selector. */
export interface ListWatch {
  /** '' for the core group (Secrets, Pods). */
  group: string;
  version: string;
  /** Lower-case plural as in the URL, e.g. 'secrets', 'jobs'. */
  plural: string;
  labelSelector?: string;
  /** How long the server keeps one watch open. Default: random between 5 and 10 minutes. */
  watchTimeoutSeconds?: number;
  /**
   * List and watch PartialObjectMetadata: the server sends only metadata (no data, spec or status),
   * so objects too large or too many to hold whole can still be followed.
   */
  metadataOnly?: boolean;
  /**
   * Applied to every object as it arrives, before it is cached or handed to a handler: return only
   * what readers need (client-go's TransformFunc), so the cache holds that and nothing else. It gets
   * a freshly parsed object nobody else holds, and applies to delete events too.
   */
  transform?(obj: KubernetesObject): KubernetesObject;
}

export interface EventHandler<T> {
  add(obj: T): void;
  update(oldObj: T, newObj: T): void;
  delete(obj: T): void;
}

const resourcePath = (r: ListWatch, namespace?: string) => apiPath({ ...r, namespace });

const GONE = 410;

/**
 * List pages in flight at once, per process: a fresh operator lists every resource of every
 * namespace together (50 reflectors at 10 namespaces), and each page's objects are parsed as they
 * arrive. Process-wide because the memory and CPU are; two keep the API server busy while one page
 * is parsed.
 */
export const LIST_PAGES_IN_FLIGHT = 2;
const listPage = limiter(LIST_PAGES_IN_FLIGHT);

/** One list+watch loop over one namespace ('' = all) feeding one store. */
class Reflector<T extends KubernetesObject> {
  readonly store = new Map<string, T>();
  synced = false;
  private resourceVersion = '';
  private watchAbort: AbortController | undefined;

  constructor(
    private readonly kc: KubeAccess,
    private readonly resource: ListWatch,
    readonly namespace: string,
    private readonly handler: EventHandler<T>,
    private readonly log: Logger,
    private readonly onSynced: () => void,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.watchAbort?.abort());
    let backoff = 500;
    while (!signal.aborted) {
      try {
        if (!this.resourceVersion) await this.list(signal);
        const started = Date.now();
        await this.watch(signal);
        backoff = 500;
        // A watch closed at once, again and again (say by a proxy), must not become a busy loop.
        if (Date.now() - started < 1000) await sleep(1000, signal);
      } catch (err) {
        if (signal.aborted) break;
        if (statusOf(err) === GONE) {
          this.log.debug({ resource: this.resource.plural }, 'watch expired, relisting');
          this.resourceVersion = '';
          continue;
        }
        this.log.warn(
          { resource: this.resource.plural, namespace: this.namespace, err: errorMessage(err) },
          'list/watch failed',
        );
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  private selector(): Record<string, string> {
    return this.resource.labelSelector ? { labelSelector: this.resource.labelSelector } : {};
  }

  private async list(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const query = { ...this.selector(), limit: '500', ...(cont ? { continue: cont } : {}) };
      // Each object as the cache keeps it, as it arrives: a page is never held whole (a page of
      // 500 objects a tenant padded to 250 KiB each was 125 MiB of JSON), nor a whole list (10,000
      // whole objects held at once were the operator's peak at a cold start, bench-scale).
      const meta = await listPage(() =>
        listJSON<T>(
          this.kc,
          {
            method: 'GET',
            path: resourcePath(this.resource, this.namespace),
            query,
            accept: this.resource.metadataOnly ? metadataAccept(true) : undefined,
            timeoutMs: 60_000,
            signal,
          },
          (obj) => items.push(this.prepare(obj)),
        ),
      );
      cont = meta?.continue || undefined;
      rv = meta?.resourceVersion ?? '';
    } while (cont);
    this.replace(items);
    this.resourceVersion = rv;
    if (!this.synced) {
      this.synced = true;
      this.onSynced();
    }
  }

  // A relist replaces the store: objects missed while not watching get their add, update or delete.
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      seen.add(storeKey(obj));
      this.upsert(obj);
    }
    for (const [k, obj] of this.store) {
      if (seen.has(k)) continue;
      this.store.delete(k);
      this.handler.delete(obj);
    }
  }

  /** Caches an object the caller just created, unless the watch already brought it (as new or newer). */
  add(obj: T): void {
    if (!this.store.has(storeKey(obj))) this.upsert(this.prepare(obj));
  }

  /** Transforms `obj` again in place of the cached one at the same resourceVersion (no events). */
  refresh(obj: T): void {
    const k = storeKey(obj);
    const cached = this.store.get(k);
    if (cached && cached.metadata?.resourceVersion === obj.metadata?.resourceVersion)
      this.store.set(k, this.prepare(obj));
  }

  /** What is kept of an arriving object. */
  private prepare(obj: T): T {
    // managedFields are often the bulk of an object and no reconciler reads them (client-go's
    // TransformStripManagedFields); a PUT without them leaves the server's copy unchanged.
    if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
    return this.resource.transform ? (this.resource.transform(obj) as T) : obj;
  }

  private upsert(obj: T): void {
    const k = storeKey(obj);
    const old = this.store.get(k);
    this.store.set(k, obj);
    if (!old) this.handler.add(obj);
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.handler.update(old, obj);
  }

  private watch(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      let failure: Error | undefined;
      const onEvent = (type: string, obj: T & { code?: number; message?: string }) => {
        if (type === 'ERROR') {
          // The server sends a Status and closes the stream; `done` then reports it.
          failure = new ApiError(obj.code ?? 500, 'watch', JSON.stringify(obj));
          return;
        }
        const rv = obj.metadata?.resourceVersion;
        if (type === 'ADDED' || type === 'MODIFIED') this.upsert(this.prepare(obj));
        else if (type === 'DELETED') {
          const k = storeKey(obj);
          const last = this.store.get(k);
          this.store.delete(k);
          if (last) this.handler.delete(this.prepare(obj));
        }
        if (rv) this.resourceVersion = rv;
      };
      // The server ends the watch after timeoutSeconds; spreading it avoids all watches
      // reconnecting together (client-go picks 5-10 min). The client-side guard notices a
      // connection that died without a close.
      const seconds = this.resource.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
      let timedOut = false;
      const guard = setTimeout(
        () => {
          timedOut = true;
          this.watchAbort?.abort();
        },
        (seconds + 30) * 1000,
      );
      const done = (err: unknown) => {
        clearTimeout(guard);
        this.watchAbort = undefined;
        const e = failure ?? (timedOut || signal.aborted ? null : (err as Error | null));
        if (e) reject(e);
        else resolve();
      };
      const timeoutSeconds = String(seconds);
      const abort = new AbortController();
      this.watchAbort = abort;
      if (signal.aborted) abort.abort();
      watchJSON<T & { code?: number; message?: string }>(
        this.kc,
        resourcePath(this.resource, this.namespace),
        {
          ...this.selector(),
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: 'true',
          timeoutSeconds,
        },
        onEvent,
        abort.signal,
        this.resource.metadataOnly ? metadataAccept(false) : undefined,
      ).then(() => done(null), done);
    });
  }
}

const storeKey = (o: KubernetesObject) => keyString(keyOf(o));

/**
 * A cache of one resource over all namespaces (`namespaces` empty) or a set of namespaces.
 * Handlers are called synchronously on every change; they should only enqueue keys.
 */
export class Informer<T extends KubernetesObject> implements Cache<T> {
  private readonly reflectors: Reflector<T>[];
  /** The reflector of each namespace ('' when cluster-wide): gets and lists touch one store. */
  private readonly byNamespace: Map<string, Reflector<T>>;
  private readonly handlers: EventHandler<T>[] = [];
  private readonly syncWaiters: (() => void)[] = [];
  private abort: AbortController | undefined;
  private runs: Promise<void>[] = [];

  constructor(
    kc: KubeAccess,
    readonly resource: ListWatch,
    namespaces: readonly string[],
    log: Logger,
  ) {
    const fanOut: EventHandler<T> = {
      add: (o) => this.dispatch((h) => h.add(o)),
      update: (a, b) => this.dispatch((h) => h.update(a, b)),
      delete: (o) => this.dispatch((h) => h.delete(o)),
    };
    const nss = namespaces.length ? [...new Set(namespaces)] : [''];
    this.reflectors = nss.map(
      (ns) => new Reflector<T>(kc, resource, ns, fanOut, log, () => this.checkSynced()),
    );
    this.byNamespace = new Map(this.reflectors.map((r) => [r.namespace, r]));
  }

  addEventHandler(handler: EventHandler<T>): void {
    this.handlers.push(handler);
    // A handler added late still hears of every object already cached.
    for (const obj of this.list()) handler.add(obj);
  }

  start(): void {
    if (this.abort) return;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    // Every reflector listens on this one signal (its loop, its sleeps, its requests): a known
    // fan-out, not a leak, so the warning past 10 listeners would only be noise.
    setMaxListeners(4 * this.reflectors.length + 10, signal);
    this.runs = this.reflectors.map((r) => r.run(signal));
  }

  /** Stops the watches; whoever still waits for the sync is released (and must check for a stop). */
  async stop(): Promise<void> {
    this.abort?.abort();
    await Promise.all(this.runs);
    for (const resolve of this.syncWaiters.splice(0)) resolve();
  }

  hasSynced(): boolean {
    return this.reflectors.every((r) => r.synced);
  }

  waitForSync(): Promise<void> {
    if (this.hasSynced()) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Caches an object the caller just created, so readers see it before its watch event. */
  add(obj: T): void {
    this.reflectorOf(obj.metadata?.namespace ?? '')?.add(obj);
  }

  refresh(obj: T): void {
    this.reflectorOf(obj.metadata?.namespace ?? '')?.refresh(obj);
  }

  get(key: ObjectKey): T | undefined {
    return this.reflectorOf(key.namespace)?.store.get(keyString(key));
  }

  list(namespace?: string): T[] {
    // A namespace's own reflector holds exactly its objects: the others need not be walked (the
    // operator lists a namespace's triggers for every Secret event there).
    const out: T[] = [];
    const reflectors = namespace === undefined ? this.reflectors : [this.reflectorOf(namespace)];
    for (const r of reflectors)
      if (r)
        for (const obj of r.store.values())
          if (r.namespace || namespace === undefined || obj.metadata?.namespace === namespace) out.push(obj);
    return out;
  }

  private reflectorOf(namespace: string): Reflector<T> | undefined {
    return this.byNamespace.get(namespace) ?? this.byNamespace.get('');
  }

  private dispatch(call: (h: EventHandler<T>) => void): void {
    for (const h of this.handlers) call(h);
  }

  private checkSynced(): void {
    if (this.hasSynced()) for (const resolve of this.syncWaiters.splice(0)) resolve();
  }
}
