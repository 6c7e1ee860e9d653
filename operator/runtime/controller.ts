import { randomUUID } from 'node:crypto';
import { errorMessage } from '../../lib/kube.ts';
import type { Logger } from '../../lib/log.ts';
import type { Metrics, ReconcileResult } from './metrics.ts';
import { WorkQueue } from './queue.ts';
import { keyString, type ObjectKey, type Reconciler } from './types.ts';

const parseKey = (key: string): ObjectKey => {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
};

/** A reconciler behind its work queue and workers. */
export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly reconciler: Reconciler,
    private readonly workerCount: number,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.name = reconciler.name;
    this.queue = new WorkQueue(undefined, (depth) => metrics.queueDepth.set({ name: this.name }, depth));
    metrics.queueDepth.set({ name: this.name }, 0);
  }

  enqueue(key: ObjectKey): void {
    if (key.name) this.queue.add(keyString(key));
  }

  get running(): boolean {
    return this.workers.length > 0;
  }

  start(): void {
    if (this.running || this.queue.isShuttingDown) return;
    for (let i = 0; i < this.workerCount; i++) this.workers.push(this.work());
  }

  /**
   * Stops taking keys and waits for the reconciles in flight. Keys still queued are dropped: the
   * next leader lists every object at start and reconciles it anyway.
   */
  async stop(): Promise<void> {
    await this.queue.shutDown(true);
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.reconcileOne(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async reconcileOne(key: string): Promise<void> {
    const labels = { controller: this.name };
    const end = this.metrics.reconcileDuration.startTimer(labels);
    const object = parseKey(key);
    const log = this.log.child({ ...labels, ...object, reconcileID: randomUUID() });
    try {
      const result = await this.reconciler.reconcile(object, log);
      let outcome: ReconcileResult = 'success';
      if (result?.requeueAfter && result.requeueAfter > 0) {
        this.queue.forget(key);
        this.queue.addAfter(key, result.requeueAfter);
        outcome = 'requeue_after';
      } else if (result?.requeue) {
        this.queue.addRateLimited(key);
        outcome = 'requeue';
      } else {
        this.queue.forget(key);
      }
      if (result?.terminal) {
        outcome = 'terminal';
        log.debug({ reason: result.terminal }, 'stalled until it changes');
      }
      this.metrics.reconcileTotal.inc({ ...labels, result: outcome });
    } catch (err) {
      this.metrics.reconcileTotal.inc({ ...labels, result: 'error' });
      this.metrics.reconcileErrors.inc(labels);
      log.error({ retries: this.queue.backoff.retries(key), err: errorMessage(err) }, 'reconcile failed');
      this.queue.addRateLimited(key);
    } finally {
      end();
    }
  }
}
