/** Requests allowed per period, as a trigger's `spec.rateLimit` says. */
export interface RateLimit {
  requests: number;
  periodSeconds: number;
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Requests left in the current window after this one. */
  remaining: number;
  /** Seconds until the current window ends (at least 1). */
  resetSeconds: number;
  /** Set when refused: when to try again. */
  retryAfterSeconds?: number;
}

interface Window {
  start: number;
  /** start + the period as of the last request: a trigger's changed limit applies to running windows. */
  end: number;
  count: number;
}

const SWEEP_INTERVAL_MS = 10_000;

/**
 * A fixed-window counter per key (the caller joins trigger and client IP), exact for one process:
 * the `requests + 1`-th request of a window is refused. A window starts at a key's first request.
 *
 * Memory is bounded twice: windows that have ended are swept every few seconds, and at `maxKeys`
 * the oldest window is evicted to make room. Evicting, rather than refusing new keys, is deliberate:
 * a flood from many source addresses (cheap with IPv6) would otherwise lock every new legitimate
 * sender out of every trigger. Eviction only lets the evicted client start a fresh window, so at
 * worst limits become loose during such a flood; verification, not the limiter, is what keeps
 * unauthorised deliveries out.
 */
export class RateLimiter {
  // Map order is insertion order, and a new window is re-inserted, so the first key is the oldest.
  readonly #windows = new Map<string, Window>();
  readonly #maxKeys: number;
  #nextSweep = Number.NEGATIVE_INFINITY;

  constructor(options: { maxKeys?: number } = {}) {
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  /** How many keys are tracked (for tests and a gauge). */
  get size(): number {
    return this.#windows.size;
  }

  take(key: string, limit: RateLimit, now: number): RateDecision {
    const window = this.#window(key, limit, now);
    const resetSeconds = Math.max(1, Math.ceil((window.end - now) / 1000));
    if (window.count >= limit.requests) {
      return {
        allowed: false,
        limit: limit.requests,
        remaining: 0,
        resetSeconds,
        retryAfterSeconds: resetSeconds,
      };
    }
    window.count++;
    return { allowed: true, limit: limit.requests, remaining: limit.requests - window.count, resetSeconds };
  }

  /** Counts one request of `key` (up to the limit), deciding nothing: no answer to allocate. */
  count(key: string, limit: RateLimit, now: number): void {
    const window = this.#window(key, limit, now);
    if (window.count < limit.requests) window.count++;
  }

  /** The current window of `key`, a new one if it has none or its window ended. */
  #window(key: string, limit: RateLimit, now: number): Window {
    if (now >= this.#nextSweep) this.#sweep(now);
    const period = limit.periodSeconds * 1000;
    let window = this.#windows.get(key);
    if (window) window.end = window.start + period;
    // A wall clock stepped back must not stretch a window past its period.
    if (!window || now >= window.end || now < window.start) {
      this.#windows.delete(key);
      if (this.#windows.size >= this.#maxKeys) this.#evictOldest();
      window = { start: now, end: now + period, count: 0 };
      this.#windows.set(key, window);
    }
    return window;
  }

  /** True when `key` has used up `limit` in its current window. Counts nothing. */
  exhausted(key: string, limit: RateLimit, now: number): boolean {
    const window = this.#windows.get(key);
    return (
      window !== undefined &&
      now >= window.start &&
      now < window.start + limit.periodSeconds * 1000 &&
      window.count >= limit.requests
    );
  }

  /** O(keys), hence at most every SWEEP_INTERVAL_MS rather than per request. */
  #sweep(now: number): void {
    this.#nextSweep = now + SWEEP_INTERVAL_MS;
    for (const [key, window] of this.#windows) {
      if (now >= window.end) this.#windows.delete(key);
    }
  }

  #evictOldest(): void {
    const oldest = this.#windows.keys().next();
    if (!oldest.done) this.#windows.delete(oldest.value);
  }
}
