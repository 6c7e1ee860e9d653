import { describe, expect, it } from 'vitest';
import { sameJson } from './same-json.ts';

/** What sameJson stands for: JSON with sorted keys, compared as text. */
const sortedJson = (v: unknown) =>
  JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)))
      : x,
  );

describe('sameJson', () => {
  const cases: [string, unknown, unknown][] = [
    ['key order', { a: 1, b: { c: [1, 2], d: 'x' } }, { b: { d: 'x', c: [1, 2] }, a: 1 }],
    ['an undefined property is absent', { a: 1, b: undefined }, { a: 1 }],
    ['an undefined item is null', [undefined, 1], [null, 1]],
    [
      'a changed value deep down',
      { runs: [{ name: 'r1', result: 'Running' }] },
      { runs: [{ name: 'r1', result: 'Succeeded' }] },
    ],
    ['a missing property', { a: 1, b: 2 }, { a: 1 }],
    ['an extra property', { a: 1 }, { a: 1, b: null }],
    ['array order', [1, 2], [2, 1]],
    ['array length', [1], [1, 1]],
    ['an array and an object', [], {}],
    ['null and an object', null, {}],
    ['a number and its text', 1, '1'],
    ['undefined and null at the top', undefined, null],
    ['both undefined', undefined, undefined],
  ];
  it.each(cases)('agrees with sorted JSON.stringify: %s', (_what, a, b) => {
    expect(sameJson(a, b)).toBe(sortedJson(a) === sortedJson(b));
    expect(sameJson(b, a)).toBe(sortedJson(a) === sortedJson(b));
  });

  it('tells them apart where they differ, and not where they do not', () => {
    expect(cases.map(([, a, b]) => sameJson(a, b))).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
  });
});
