import { describe, expect, it } from 'vitest';
import { shareOf } from './peers.ts';

const addresses = (n: number) => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}`);

describe('shareOf', () => {
  it('the shares of the ready replicas add up to the limit exactly, for 1 to 5 replicas', () => {
    for (const limit of [5, 29, 30, 31, 1000])
      for (let n = 1; n <= 5; n++) {
        const ready = addresses(n);
        const total = ready.reduce((sum, self) => sum + shareOf(limit, ready, self), 0);
        expect(total, `limit ${limit} over ${n}`).toBe(limit);
      }
  });

  it('never gives a replica 0 while the limit is above 0: with fewer requests than replicas each admits 1', () => {
    for (let n = 2; n <= 10; n++)
      for (let limit = 1; limit < n; limit++) {
        const ready = addresses(n);
        const shares = ready.map((self) => shareOf(limit, ready, self));
        expect(Math.min(...shares), `limit ${limit} over ${n}`).toBe(1);
        expect(
          shares.reduce((a, b) => a + b),
          `limit ${limit} over ${n}`,
        ).toBe(n);
      }
    expect(addresses(2).map((self) => shareOf(1, addresses(2), self))).toEqual([1, 1]);
  });

  it('gives the remainder to the first replicas by address', () => {
    const ready = addresses(4);
    expect(ready.map((self) => shareOf(30, ready, self))).toEqual([8, 8, 7, 7]);
  });

  it('alone, or with the peers unknown, a replica enforces the whole limit', () => {
    expect(shareOf(30, [], '10.0.0.1')).toBe(30);
    expect(shareOf(30, ['10.0.0.1'], '10.0.0.1')).toBe(30);
  });

  it('a replica not among the ready ones takes the rounded-up share', () => {
    expect(shareOf(30, addresses(4), '10.9.9.9')).toBe(8);
    expect(shareOf(30, addresses(4), undefined)).toBe(8);
  });
});
