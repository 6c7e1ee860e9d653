import { describe, expect, it } from 'vitest';
import { canonicalJSON, SchemaCompiler } from './input-schema.ts';

describe('uniqueItems (linear, by canonical JSON)', () => {
  const compiler = new SchemaCompiler();
  const unique = compiler.compile({ type: 'array', uniqueItems: true });

  it.each([
    [
      'objects with their keys in another order',
      [
        { a: 1, b: [1, { c: 2, d: 3 }] },
        { b: [1, { d: 3, c: 2 }], a: 1 },
      ],
    ],
    ['equal numbers written differently', [1, 1.0]],
    ['0 and -0', [0, -0]],
    ['equal arrays', [[1, 'x'], 'y', [1, 'x']]],
    ['nulls', [null, 1, null]],
  ])('refuses %s', (_, items) => {
    expect(unique(items)).toBe(false);
    expect(unique.errors?.[0]).toMatchObject({ keyword: 'uniqueItems' });
  });

  it.each([
    ['a number and its string', [1, '1']],
    ['an object and its JSON text', [{}, '{}', [], '[]']],
    ['null and "null", true and "true"', [null, 'null', true, 'true']],
    [
      'arrays in another order',
      [
        [1, 2],
        [2, 1],
      ],
    ],
    ['objects that differ in one nested value', [{ a: { b: 1 } }, { a: { b: 2 } }]],
  ])('accepts %s', (_, items) => {
    expect(unique(items)).toBe(true);
  });

  it('names the two items, as Ajv does', () => {
    expect(unique([{ x: 1 }, 2, { x: 1 }])).toBe(false);
    expect(unique.errors?.[0]?.message).toBe(
      'must NOT have duplicate items (items ## 2 and 0 are identical)',
    );
  });

  it('is off with uniqueItems: false, and the meta-schema still refuses a non-boolean', () => {
    expect(compiler.compile({ uniqueItems: false })([1, 1])).toBe(true);
    expect(() => compiler.compile({ uniqueItems: 'yes' })).toThrow(/uniqueItems must be boolean/);
  });

  it('applies in draft-07 schemas too', () => {
    const v = compiler.compile({ $schema: 'http://json-schema.org/draft-07/schema#', uniqueItems: true });
    expect(v([{ a: 1 }, { a: 1 }])).toBe(false);
  });

  it('canonical JSON sorts keys at every depth', () => {
    expect(canonicalJSON({ b: [{ y: 1, x: 2 }], a: null })).toBe('{"a":null,"b":[{"x":2,"y":1}]}');
  });
});
