import { QueueFullError } from '../types.ts';

/** Deliveries of one Forbid/Replace workflow that may wait their turn; more are answered 503. */
export const MAX_QUEUED = 64;

/**
 * Runs tasks of one key one at a time, in order; at most `max` tasks per key, running or waiting,
 * so a burst at one workflow cannot hold unbounded requests (and their bodies) in memory.
 */
export class SerialQueues {
  readonly #tails = new Map<string, { tail: Promise<unknown>; size: number }>();

  constructor(readonly max = MAX_QUEUED) {}

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const queue = this.#tails.get(key) ?? { tail: Promise.resolve(), size: 0 };
    if (queue.size >= this.max) return Promise.reject(new QueueFullError(`more than ${this.max} queued`));
    queue.size++;
    this.#tails.set(key, queue);
    const result = queue.tail.then(fn, fn);
    queue.tail = result.then(
      () => this.#done(key, queue),
      () => this.#done(key, queue),
    );
    return result;
  }

  /** Tasks of `key` running or waiting. */
  size(key: string): number {
    return this.#tails.get(key)?.size ?? 0;
  }

  #done(key: string, queue: { size: number }) {
    if (--queue.size === 0 && this.#tails.get(key) === queue) this.#tails.delete(key);
  }
}
