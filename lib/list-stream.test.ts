import { describe, expect, it } from 'vitest';
import { ListSplitter } from './list-stream.ts';

/** Feeds `text` in pieces of the given sizes (repeated); returns the items and the rest. */
function split(text: string, sizes: number[]) {
  const items: unknown[] = [];
  const s = new ListSplitter((item) => items.push(item));
  const bytes = Buffer.from(text);
  for (let at = 0, n = 0; at < bytes.length; n++) {
    const size = sizes[n % sizes.length]!;
    s.write(bytes.subarray(at, at + size));
    at += size;
  }
  return { items, rest: s.end() };
}

const list = {
  kind: 'JobList',
  apiVersion: 'batch/v1',
  metadata: { resourceVersion: '42', continue: 'abc"items"[{' },
  items: [
    {
      metadata: { name: 'a', annotations: { 'x/"items"': '[{}]\\"}', ü: 'ßü€😀' } },
      spec: { n: [1, [2, { x: 3 }]] },
    },
    { metadata: { name: 'b' }, status: {} },
    { metadata: { name: 'c', labels: { items: '[' } } },
  ],
};

describe('ListSplitter', () => {
  it.each([[[1]], [[2, 3, 5]], [[7]], [[64]], [[100_000]]])(
    'splits a list fed in pieces of %j bytes',
    (sizes) => {
      const { items, rest } = split(JSON.stringify(list), sizes);
      expect(items).toEqual(list.items);
      expect(rest).toEqual({ ...list, items: [] });
    },
  );

  it('reads lists written with blanks, empty lists, and a null items (PartialObjectMetadataList)', () => {
    const pretty = split(JSON.stringify(list, null, 2), [3]);
    expect(pretty.items).toEqual(list.items);
    expect(pretty.rest.metadata).toEqual(list.metadata);
    expect(split('{"kind":"SecretList","items":[],"metadata":{}}', [4])).toEqual({
      items: [],
      rest: { kind: 'SecretList', items: [], metadata: {} },
    });
    expect(split('{"metadata":{"resourceVersion":"1"},"items":null}', [5]).rest).toEqual({
      metadata: { resourceVersion: '1' },
      items: null,
    });
  });

  it('holds one item at a time: each is handed on before the next one has arrived', () => {
    const seen: string[] = [];
    const s = new ListSplitter<{ metadata: { name: string } }>((i) => seen.push(i.metadata.name));
    s.write(Buffer.from('{"items":[{"metadata":{"name":"a"}},{"metadata":{"na'));
    expect(seen).toEqual(['a']);
    s.write(Buffer.from('me":"b"}}]}'));
    expect(seen).toEqual(['a', 'b']);
    expect(s.end()).toEqual({ items: [] });
  });

  it('refuses a list cut short, and malformed items', () => {
    const s = new ListSplitter(() => {});
    s.write(Buffer.from('{"items":[{"a":1}'));
    expect(() => s.end()).toThrow(SyntaxError);
    expect(() => new ListSplitter(() => {}).write(Buffer.from('{"items":[{"a":}]}'))).toThrow(SyntaxError);
  });
});
