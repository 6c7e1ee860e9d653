// A list page parsed as it streams: each element of the top-level `items` array is parsed (and
// handed on) as soon as its last byte arrives, so a page is never held whole. A page of 500 objects
// a tenant padded with 250 KiB annotations was 125 MiB of JSON, held three times over (chunks,
// text, parsed objects) before anything could cut it down.

import { BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, OPEN_ARRAY, OPEN_OBJECT, QUOTE } from './json-bytes.ts';
import { TextPieces } from './text-pieces.ts';

const ITEMS = Buffer.from('items');

type Target = 'rest' | 'item' | 'skip';

/**
 * Splits the JSON text of a Kubernetes list, fed in chunks, into its items (each parsed and passed
 * to `onItem` as soon as it is complete) and the rest (`kind`, `metadata`, ...), which `end()`
 * parses and returns with `items` empty. It scans bytes: no byte of a multi-byte UTF-8 character is
 * a quote or a backslash, so strings are found without decoding. Holds one item and the rest.
 */
export class ListSplitter<T> {
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** The depth-1 string being read (a key, or a short value such as the kind), in pieces. */
  #key: Buffer[] | undefined;
  #keyFrom = 0;
  #lastKey = Buffer.alloc(0);
  #inItems = false;
  readonly #item = new TextPieces();
  readonly #rest: Buffer[] = [];

  constructor(private readonly onItem: (item: T) => void) {}

  write(chunk: Buffer): void {
    let from = 0;
    let target: Target = !this.#inItems ? 'rest' : this.#depth >= 3 ? 'item' : 'skip';
    // Bytes from..to belong to the current target; later ones to the next.
    const route = (to: number, next: Target) => {
      // Copied, not sliced: a slice would keep the whole chunk it came from alive.
      if (to > from && target === 'item') this.#item.push(chunk.subarray(from, to));
      else if (to > from && target === 'rest') this.#rest.push(Buffer.from(chunk.subarray(from, to)));
      from = to;
      target = next;
    };
    this.#keyFrom = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (b === BACKSLASH) this.#escaped = true;
        else if (b === QUOTE) {
          this.#inString = false;
          if (this.#key) {
            this.#key.push(chunk.subarray(this.#keyFrom, i));
            this.#lastKey = Buffer.concat(this.#key);
            this.#key = undefined;
          }
        }
      } else if (b === QUOTE) {
        this.#inString = true;
        if (this.#depth === 1) {
          this.#key = [];
          this.#keyFrom = i + 1;
        }
      } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
        this.#depth++;
        if (this.#depth === 2 && b === OPEN_ARRAY && this.#lastKey.equals(ITEMS)) {
          this.#inItems = true;
          route(i + 1, 'skip');
        } else if (this.#inItems && this.#depth === 3) route(i, 'item');
      } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
        this.#depth--;
        if (this.#inItems && this.#depth === 2) {
          route(i + 1, 'skip');
          this.#emit();
        } else if (this.#inItems && this.#depth === 1) {
          this.#inItems = false;
          route(i, 'rest');
        }
      }
    }
    if (this.#inString && this.#key) this.#key.push(chunk.subarray(this.#keyFrom));
    route(chunk.length, target);
  }

  /** The list without its items: `items` is `[]` (or null, as an empty metadata list comes). */
  end(): Record<string, unknown> {
    if (this.#depth !== 0 || this.#inString) throw new SyntaxError('the list ended early');
    return JSON.parse(Buffer.concat(this.#rest).toString('utf8')) as Record<string, unknown>;
  }

  #emit(): void {
    this.onItem(JSON.parse(this.#item.take()) as T);
  }
}
