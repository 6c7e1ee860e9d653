import { describe, expect, it } from 'vitest';
import { FloodGuard } from './flood-guard.ts';
import { RateLimiter } from './ratelimit.ts';

const T0 = Date.UTC(2025, 0, 1, 12);
const LIMIT = { requests: 3, periodSeconds: 60 };

/** Takes `n` times at `now` and returns how many were allowed. */
const burst = (limiter: RateLimiter, key: string, n: number, now: number, limit = LIMIT) =>
  Array.from({ length: n }, () => limiter.take(key, limit, now)).filter((d) => d.allowed).length;

describe('RateLimiter', () => {
  it('allows exactly `requests` per window and refuses the next', () => {
    const limiter = new RateLimiter();
    expect([1, 2, 3, 4].map(() => limiter.take('t|1.2.3.4', LIMIT, T0))).toEqual([
      { allowed: true, limit: 3, remaining: 2, resetSeconds: 60 },
      { allowed: true, limit: 3, remaining: 1, resetSeconds: 60 },
      { allowed: true, limit: 3, remaining: 0, resetSeconds: 60 },
      { allowed: false, limit: 3, remaining: 0, resetSeconds: 60, retryAfterSeconds: 60 },
    ]);
  });

  it('is exact for a large limit', () => {
    const limiter = new RateLimiter();
    expect(burst(limiter, 'k', 1001, T0, { requests: 1000, periodSeconds: 1 })).toBe(1000);
  });

  it('counts down the reset and opens a new window when the period ends', () => {
    const limiter = new RateLimiter();
    burst(limiter, 'k', 3, T0);
    expect(limiter.take('k', LIMIT, T0 + 20_500)).toMatchObject({ allowed: false, resetSeconds: 40 });
    expect(limiter.take('k', LIMIT, T0 + 59_001)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('k', LIMIT, T0 + 60_000)).toEqual({
      allowed: true,
      limit: 3,
      remaining: 2,
      resetSeconds: 60,
    });
    expect(burst(limiter, 'k', 3, T0 + 60_000)).toBe(2);
  });

  it('keeps keys apart', () => {
    const limiter = new RateLimiter();
    expect(burst(limiter, 'a|1.1.1.1', 5, T0)).toBe(3);
    expect(burst(limiter, 'a|2.2.2.2', 5, T0)).toBe(3);
    expect(burst(limiter, 'b|1.1.1.1', 5, T0)).toBe(3);
  });

  it('applies a changed limit to a running window', () => {
    const limiter = new RateLimiter();
    burst(limiter, 'k', 3, T0);
    expect(limiter.take('k', { requests: 5, periodSeconds: 60 }, T0)).toMatchObject({
      allowed: true,
      remaining: 1,
    });
    expect(limiter.take('k', { requests: 5, periodSeconds: 10 }, T0 + 10_000)).toMatchObject({
      allowed: true,
      remaining: 4,
    });
  });

  it('does not stretch a window when the clock steps back', () => {
    const limiter = new RateLimiter();
    burst(limiter, 'k', 3, T0);
    expect(limiter.take('k', LIMIT, T0 - 3_600_000)).toMatchObject({ allowed: true, resetSeconds: 60 });
  });

  it('sweeps ended windows', () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 100; i++) limiter.take(`t|10.0.0.${i}`, LIMIT, T0);
    limiter.take('long', { requests: 1, periodSeconds: 3600 }, T0);
    expect(limiter.size).toBe(101);
    limiter.take('other', LIMIT, T0 + 60_000);
    expect(limiter.size).toBe(2); // 'long' is still in its window
  });

  it('evicts the oldest window at the key cap', () => {
    const limiter = new RateLimiter({ maxKeys: 3 });
    burst(limiter, 'first', 3, T0);
    burst(limiter, 'second', 3, T0 + 1);
    burst(limiter, 'third', 3, T0 + 2);
    expect(limiter.take('fourth', LIMIT, T0 + 3).allowed).toBe(true);
    expect(limiter.size).toBe(3);
    // 'first' lost its window (and starts afresh); 'second' still holds its own.
    expect(limiter.take('second', LIMIT, T0 + 4).allowed).toBe(false);
    expect(limiter.take('first', LIMIT, T0 + 5).allowed).toBe(true);
    expect(limiter.size).toBe(3);
  });

  it('holds no state between instances', () => {
    burst(new RateLimiter(), 'k', 3, T0);
    expect(new RateLimiter().take('k', LIMIT, T0).allowed).toBe(true);
  });
});

describe('FloodGuard', () => {
  it('blocks an address once it has `requests` strikes in its window, until the window ends; counts nothing itself', () => {
    const guard = new FloodGuard({ requests: 2, periodSeconds: 10 });
    for (let i = 0; i < 100; i++) expect(guard.blocked('a', T0)).toBe(false); // asking is not a strike
    guard.strike('a', T0);
    expect(guard.blocked('a', T0)).toBe(false);
    guard.strike('a', T0 + 1000);
    expect(guard.blocked('a', T0 + 1000)).toBe(true);
    expect(guard.blocked('b', T0 + 1000)).toBe(false);
    expect(guard.blocked('a', T0 + 10_000)).toBe(false);
  });
});
