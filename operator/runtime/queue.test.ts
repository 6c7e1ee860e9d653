import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RetryBackoff, WorkQueue } from './queue.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** The keys get() would hand out right now, without waiting. */
async function drainReady(q: WorkQueue): Promise<string[]> {
  const out: string[] = [];
  while (q.length > 0) out.push((await q.get())!);
  return out;
}

describe('WorkQueue', () => {
  it('holds a key once however often it is added', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await drainReady(q)).toEqual(['a', 'b']);
  });

  it('defers a key re-added while processing until done, and hands it to one worker only', async () => {
    const q = new WorkQueue();
    q.add('a');
    const key = await q.get();
    expect(key).toBe('a');
    q.add('a');
    q.add('a');
    // Not handed to a second worker while the first still has it.
    expect(q.length).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => {
      second = k;
    });
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done('a');
    await Promise.resolve();
    expect(second).toBe('a');
    q.done('a');
    expect(q.length).toBe(0);
  });

  it('wakes a waiting worker on add', async () => {
    const q = new WorkQueue();
    const next = q.get();
    q.add('x');
    expect(await next).toBe('x');
  });

  it('addAfter adds after the delay; the earliest pending delay wins', async () => {
    const q = new WorkQueue();
    q.addAfter('a', 1000);
    q.addAfter('a', 5000);
    q.addAfter('a', 300);
    await vi.advanceTimersByTimeAsync(299);
    expect(q.length).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(await drainReady(q)).toEqual(['a']);
    q.done('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(q.length).toBe(0);
  });

  it('backs off exponentially per key on failure and starts over after forget', async () => {
    const q = new WorkQueue(new RetryBackoff(5, 1_000_000, 1e9, 1e9));
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = Date.now();
      q.addRateLimited('a');
      await vi.advanceTimersToNextTimerAsync();
      delays.push(Date.now() - before);
      expect(await q.get()).toBe('a');
      q.done('a');
    }
    expect(delays).toEqual([5, 10, 20, 40]);
    expect(q.backoff.retries('a')).toBe(4);
    q.forget('a');
    expect(q.backoff.retries('a')).toBe(0);
    expect(q.backoff.when('a')).toBe(5);
    // Other keys have their own count.
    expect(q.backoff.when('b')).toBe(5);
  });

  it('reports depth changes', async () => {
    const depths: number[] = [];
    const q = new WorkQueue(undefined, (d) => depths.push(d));
    q.add('a');
    q.add('b');
    await q.get();
    expect(depths).toEqual([1, 2, 1]);
  });

  it('shutDown ends waiting workers, drops delayed adds and ignores new keys', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.addAfter('later', 100);
    await q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add('new');
    await vi.advanceTimersByTimeAsync(1000);
    expect(q.length).toBe(0);
    expect(await q.get()).toBeUndefined();
  });

  it('shutDown waits for keys in flight; queued keys are still handed out unless discarded', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    const a = (await q.get())!;
    let drained = false;
    const stopping = q.shutDown().then(() => {
      drained = true;
    });
    expect(await q.get()).toBe('b');
    q.done(a);
    await Promise.resolve();
    expect(drained).toBe(false);
    q.done('b');
    await stopping;
    expect(drained).toBe(true);

    const d = new WorkQueue();
    d.add('x');
    d.add('y');
    const x = (await d.get())!;
    const stopped = d.shutDown(true);
    expect(await d.get()).toBeUndefined();
    d.done(x);
    await stopped;
  });

  it('a key re-added during processing before shutDown is still processed once', async () => {
    const q = new WorkQueue();
    q.add('a');
    await q.get();
    q.add('a');
    const stopping = q.shutDown();
    q.done('a');
    expect(await q.get()).toBe('a');
    q.done('a');
    await stopping;
  });
});

describe('RetryBackoff', () => {
  it('caps the per-key backoff at 1000 s', () => {
    const r = new RetryBackoff(5, 1_000_000, 1e9, 1e9);
    let last = 0;
    for (let i = 0; i < 40; i++) last = r.when('k');
    expect(last).toBe(1_000_000);
  });

  it('limits overall retries with a token bucket (10 qps, burst 100)', () => {
    const r = new RetryBackoff();
    // 100 different keys use up the burst without waiting beyond their own 5 ms.
    for (let i = 0; i < 100; i++) expect(r.when(`k${i}`)).toBe(5);
    // The next ones wait for refills at 10 per second.
    expect(r.when('k100')).toBe(100);
    expect(r.when('k101')).toBe(200);
  });
});
