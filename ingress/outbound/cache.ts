/**
 * What outbound calls fetched, kept by URL: bounded in entries and bytes, each entry for `ttlMs`,
 * least recently used evicted first. Concurrent misses for one key share one load, so a burst of
 * deliveries naming one certificate makes one call. Failures are not kept: the next delivery
 * tries again, and the client's concurrency cap bounds what that costs.
 */
export interface CacheOptions<V> {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
  size: (value: V) => number;
  clock?: () => number;
}

export class BoundedCache<V> {
  private readonly entries = new Map<string, { value: V; bytes: number; expires: number }>();
  private readonly loading = new Map<string, Promise<V>>();
  private bytes = 0;
  private readonly clock: () => number;

  constructor(private readonly options: CacheOptions<V>) {
    this.clock = options.clock ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }
  get totalBytes(): number {
    return this.bytes;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expires <= this.clock()) {
      this.bytes -= entry.bytes;
      return undefined;
    }
    this.entries.set(key, entry); // most recently used last
    return entry.value;
  }

  set(key: string, value: V): void {
    this.delete(key);
    const bytes = this.options.size(value);
    if (bytes > this.options.maxBytes) return; // never kept: larger than the whole cache
    this.entries.set(key, { value, bytes, expires: this.clock() + this.options.ttlMs });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.options.maxEntries && this.bytes <= this.options.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  /** The cached value, or the result of one shared `load` for all concurrent callers. */
  async getOrLoad(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    let pending = this.loading.get(key);
    if (!pending) {
      pending = load().then(
        (value) => {
          this.loading.delete(key);
          this.set(key, value);
          return value;
        },
        (err) => {
          this.loading.delete(key);
          throw err;
        },
      );
      this.loading.set(key, pending);
    }
    return pending;
  }
}
