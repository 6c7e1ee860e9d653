import { describe, expect, it } from 'vitest';
import { limiter } from './limit.ts';

const tick = () => new Promise((r) => setImmediate(r));

describe('limiter', () => {
  it('runs at most n at once, the rest in their order, each with its own result or error', async () => {
    const limit = limiter(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const release: (() => void)[] = [];
    const calls = Array.from({ length: 5 }, (_, i) =>
      limit(async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await new Promise<void>((r) => release.push(r));
        running--;
        if (i === 3) throw new Error('three');
        return i;
      }),
    );
    const results = Promise.allSettled(calls);
    for (let done = 0; done < 5; done++) {
      await tick();
      release.shift()?.();
    }
    await tick();
    for (const r of release) r();
    const settled = await results;
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([
      0,
      1,
      2,
      'three',
      4,
    ]);
  });

  it('frees the slot of a call that failed', async () => {
    const limit = limiter(1);
    await expect(limit(() => Promise.reject(new Error('no')))).rejects.toThrow('no');
    await expect(limit(async () => 'next')).resolves.toBe('next');
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => limiter(0)).toThrow(/positive integer/);
    expect(() => limiter(1.5)).toThrow(/positive integer/);
  });
});
