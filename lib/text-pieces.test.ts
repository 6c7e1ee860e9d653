import { describe, expect, it } from 'vitest';
import { TextPieces } from './text-pieces.ts';

describe('TextPieces', () => {
  it('joins pieces split inside a multi-byte character, and reuses its buffer without changing texts taken', () => {
    const bytes = Buffer.from('{"name":"zürich ✓"}');
    const pieces = new TextPieces();
    for (let i = 0; i < bytes.length; i += 3) pieces.push(bytes.subarray(i, Math.min(i + 3, bytes.length)));
    const first = pieces.take();
    pieces.push(Buffer.from('{"name":'));
    const second = pieces.take(Buffer.from('"b"}'));
    expect([first, second]).toEqual(['{"name":"zürich ✓"}', '{"name":"b"}']);
    expect(pieces.take()).toBe('');
  });

  it('takes a text of one piece as it is, and texts larger than what it keeps', () => {
    const pieces = new TextPieces();
    expect(pieces.take(Buffer.from('one'))).toBe('one');
    const big = 'x'.repeat(600 * 1024);
    pieces.push(Buffer.from(big.slice(0, 1000)));
    expect(pieces.take(Buffer.from(big.slice(1000)))).toBe(big);
    pieces.push(Buffer.from('after'));
    expect(pieces.take()).toBe('after');
  });
});
