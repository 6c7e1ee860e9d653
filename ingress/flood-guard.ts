import { type RateLimit, RateLimiter } from './ratelimit.ts';

/** Unverified requests a client address may send per period before it is refused from its headers. */
export const DEFAULT_FLOOD_LIMIT: RateLimit = { requests: 600, periodSeconds: 60 };

/**
 * A per-address guard against floods of junk, apart from the triggers' own rate limits (which
 * count verified deliveries only, so junk never spends a sender's budget). It counts the requests
 * of an address that did not verify (unknown paths, wrong tokens and signatures, refused bodies)
 * and, once an address has sent `limit` of them in a window, refuses all its requests from the
 * headers alone until the window ends. Verified deliveries never count, so a busy real sender is
 * never stopped by its own traffic; a sender that shares its address with an attacker (a proxy
 * whose X-Forwarded-For is not trusted) is, which is why the chart insists on trusted proxies.
 */
export class FloodGuard {
  readonly #limiter: RateLimiter;

  constructor(
    readonly limit: RateLimit = DEFAULT_FLOOD_LIMIT,
    maxKeys?: number,
  ) {
    this.#limiter = new RateLimiter({ maxKeys });
  }

  blocked(client: string, now: number): boolean {
    return this.#limiter.exhausted(client, this.limit, now);
  }

  /** Counts one unverified request of `client`. */
  strike(client: string, now: number): void {
    this.#limiter.count(client, this.limit, now);
  }
}
