import { type KubeConfig, type KubernetesObject, Watch } from '@kubernetes/client-node';
import { statusOf } from '../../lib/kube.ts';
import type { Logger } from '../../lib/log.ts';
import { describe, sleep } from './kube.ts';

export interface InformerOptions<T extends KubernetesObject> {
  /** Collection path, e.g. /api/v1/namespaces/x/secrets or /apis/batch/v1/jobs. */
  path: string;
  labelSelector: string;
  /** Lists the same collection with the same selector; `signal` aborts it on stop. */
  list(signal: AbortSignal): Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  log: Logger;
  /** An object appeared or changed (also after a relist, for each object whose version changed). */
  onUpsert?(obj: T): void;
  /** An object is gone (also after a relist, for each object no longer listed). */
  onDelete?(obj: T): void;
}

/** Server-side watch timeout; a random part spreads the reconnects of several replicas. */
const watchSeconds = () => 300 + Math.floor(Math.random() * 300);

/**
 * A list+watch cache (client-go's reflector, small). Our own loop rather than client-node's
 * makeInformer: that one stops for good on a failed relist unless restarted from its error event,
 * and its watch has no timeout, so a silently dead connection is never noticed. This loop lists,
 * watches from the list's resourceVersion with a server timeout (and a client one as a guard),
 * resumes from the last seen version, relists on 410 Gone, and backs off on errors, forever.
 * Objects from a list are typed-client models (timestamps as Date), from a watch plain JSON
 * (timestamps as strings): readers must accept both.
 */
export class Informer<T extends KubernetesObject> {
  private readonly objects = new Map<string, T>();
  private readonly watch: Watch;
  private readonly stopping = new AbortController();
  private loop?: Promise<void>;
  private request?: AbortController;
  private resolveSynced!: () => void;
  /** Resolves after the first successful list (or on stop). */
  readonly synced: Promise<void> = new Promise((resolve) => {
    this.resolveSynced = resolve;
  });
  /** True once the first list has been loaded. */
  hasSynced = false;

  constructor(
    kc: KubeConfig,
    private readonly opts: InformerOptions<T>,
  ) {
    this.watch = new Watch(kc);
  }

  /** Starts the loop; resolves after the first successful list. */
  start(): Promise<void> {
    this.loop ??= this.run();
    return this.synced;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.request?.abort();
    this.resolveSynced();
    await this.loop;
  }

  get(namespace: string, name: string): T | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }

  list(): IterableIterator<T> {
    return this.objects.values();
  }

  /**
   * Adds an object we just created, so the next reader sees it before its watch event arrives. An
   * object already present is as new or newer, and stays.
   */
  add(obj: T): void {
    const key = keyOf(obj);
    if (!this.objects.has(key)) this.upsert(key, obj);
  }

  private async run(): Promise<void> {
    const { log, path } = this.opts;
    let resourceVersion = '';
    let failures = 0;
    while (!this.stopping.signal.aborted) {
      try {
        if (!resourceVersion) resourceVersion = await this.relist();
        const started = Date.now();
        resourceVersion = await this.watchFrom(resourceVersion);
        failures = 0;
        // A watch closed at once, again and again (say by a proxy), must not become a busy loop.
        if (Date.now() - started < 1000) await sleep(1000, this.stopping.signal);
      } catch (err) {
        if (this.stopping.signal.aborted) break;
        // Resume from the last version seen; only 410 Gone (too old) needs a relist.
        if (statusOf(err) === 410) {
          resourceVersion = '';
          continue;
        }
        failures++;
        const delay = Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
        log.warn({ path, error: describe(err), retryInMs: delay }, 'list/watch failed');
        await sleep(delay, this.stopping.signal);
      }
    }
  }

  private async relist(): Promise<string> {
    const list = await this.opts.list(this.stopping.signal);
    const fresh = new Map(list.items.map((o) => [keyOf(o), o]));
    for (const [key, old] of this.objects) {
      if (!fresh.has(key)) {
        this.objects.delete(key);
        this.opts.onDelete?.(old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.objects.get(key);
      if (old?.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.upsert(key, obj);
    }
    this.hasSynced = true;
    this.resolveSynced();
    return list.metadata?.resourceVersion ?? '';
  }

  private upsert(key: string, obj: T) {
    this.objects.set(key, obj);
    this.opts.onUpsert?.(obj);
  }

  /** Watches until the stream ends; resolves with the version to resume from ('' to relist). */
  private watchFrom(resourceVersion: string): Promise<string> {
    const { path, labelSelector } = this.opts;
    const seconds = watchSeconds();
    return new Promise<string>((resolve, reject) => {
      let last = resourceVersion;
      let failure: Error | undefined;
      let timedOut = false;
      const guard = setTimeout(
        () => {
          timedOut = true;
          this.request?.abort();
        },
        (seconds + 30) * 1000,
      );
      const onEvent = (type: string, obj: T & { code?: number; message?: string }) => {
        if (type === 'ERROR') {
          // 410: our version is older than the server keeps; anything else ends this watch too.
          if (obj.code === 410) last = '';
          else failure = Object.assign(new Error(obj.message ?? 'watch error'), { code: obj.code });
          return;
        }
        const version = obj.metadata?.resourceVersion;
        if (type === 'ADDED' || type === 'MODIFIED') this.upsert(keyOf(obj), obj);
        else if (type === 'DELETED') {
          const key = keyOf(obj);
          if (this.objects.delete(key)) this.opts.onDelete?.(obj);
        }
        if (version && last !== '') last = version;
      };
      const onDone = (err: unknown) => {
        clearTimeout(guard);
        if (this.stopping.signal.aborted || timedOut) resolve(last);
        else if (failure) reject(failure);
        else if (err) reject(err);
        else resolve(last);
      };
      const params = { resourceVersion, labelSelector, allowWatchBookmarks: true, timeoutSeconds: seconds };
      this.watch.watch(path, params, onEvent, onDone).then((request) => {
        this.request = request;
        if (this.stopping.signal.aborted) request.abort();
      }, onDone);
    });
  }
}

const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
