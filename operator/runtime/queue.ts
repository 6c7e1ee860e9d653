// A work queue with client-go's guarantees: a key waiting in the queue is held once however often
// it is added; a key is handed to one worker at a time; a key added while it is being processed is
// handed out again only after `done`; failures back off per key.

/**
 * When a failed key is tried again: client-go's DefaultControllerRateLimiter (named for what it
 * does here, not to be taken for the ingress's RateLimiter), the slower of per-key exponential
 * backoff and an overall token bucket.
 */
export class RetryBackoff {
  private failures = new Map<string, number>();
  private tokens: number;
  private updated: number;

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1_000_000,
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.updated = now();
  }

  /** Delay before the next retry of `key`; each call counts as one more failure. */
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const backoff = Math.min(this.baseMs * 2 ** n, this.maxMs);
    return Math.max(backoff, this.reserveToken());
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  // A token bucket that may go negative: a reservation made while empty waits until refilled.
  private reserveToken(): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updated) * this.qps) / 1000);
    this.updated = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.qps);
  }
}

export class WorkQueue {
  private queue: string[] = [];
  /** Keys that need processing: queued, or re-added while processing. */
  private dirty = new Set<string>();
  private processing = new Set<string>();
  private waiting = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private getters: ((key: string | undefined) => void)[] = [];
  private idle: (() => void)[] = [];
  private shuttingDown = false;

  constructor(
    readonly backoff = new RetryBackoff(),
    /** Called whenever the number of queued keys changes (the depth gauge). */
    private readonly onDepth: (depth: number) => void = () => {},
  ) {}

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds `key` after `ms`; an earlier pending add for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const pending = this.waiting.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    timer.unref?.();
    this.waiting.set(key, { at, timer });
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.backoff.when(key));
  }

  /** Clears the key's failure count: call after a successful reconcile. */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  /** The next key to process, or undefined once shut down and empty. Call `done(key)` after. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.onDepth(this.queue.length);
      this.processing.add(key);
      this.dirty.delete(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) this.push(key);
    else if (this.processing.size === 0 && this.queue.length === 0) this.notifyIdle();
  }

  get length(): number {
    return this.queue.length;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops accepting keys and drops delayed adds, then resolves once the keys being processed are
   * done. Queued keys are still handed out (as client-go) unless `discard` — used when this replica
   * must stop at once; the next leader reconciles everything after its initial list anyway.
   */
  shutDown(discard = false): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    if (discard) {
      for (const key of this.queue) this.dirty.delete(key);
      this.queue = [];
      this.onDepth(0);
    }
    for (const resolve of this.getters.splice(0)) resolve(undefined);
    if (this.processing.size === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private push(key: string): void {
    const getter = this.getters.shift();
    if (getter) {
      this.processing.add(key);
      this.dirty.delete(key);
      getter(key);
      return;
    }
    this.queue.push(key);
    this.onDepth(this.queue.length);
  }

  private notifyIdle(): void {
    if (!this.shuttingDown) return;
    for (const resolve of this.idle.splice(0)) resolve();
  }
}
