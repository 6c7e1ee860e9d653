/**
 * At most `n` calls of a function at once; the others wait their turn, first come first served.
 * For work whose cost in memory is what is in flight (say a page of a list), not its count.
 */
export function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`a limit must be a positive integer, got ${n}`);
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    // A freed slot passes straight to the next waiter, so `active` counts it still taken.
    if (active < n) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
