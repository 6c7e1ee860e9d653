// Text that arrives in pieces (a watch event, a list item, split across socket chunks), decoded
// once when complete. The pieces are copied into one buffer that is reused from one text to the
// next: keeping them as slices held every chunk they came from alive, and joining them allocated a
// new buffer per text. Under a tenant's flood of 200 KiB objects that was ~90 MiB of short-lived
// buffers outside V8's heap, collected late, which left the operator's malloc heap 10–25 MiB larger
// for good (fragmentation, and a high-water mark malloc never gave back).

/** Kept between texts up to this size; a larger buffer, made for one huge text, is let go. */
const KEEP_BYTES = 512 * 1024;

export class TextPieces {
  #buf = Buffer.alloc(0);
  #length = 0;

  push(piece: Buffer): void {
    const need = this.#length + piece.length;
    if (need > this.#buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(need, 2 * this.#buf.length, 16 * 1024));
      this.#buf.copy(grown, 0, 0, this.#length);
      this.#buf = grown;
    }
    piece.copy(this.#buf, this.#length);
    this.#length = need;
  }

  /** The pieces pushed since the last `take`, with `last` after them, as one string. */
  take(last?: Buffer): string {
    if (this.#length === 0) return last ? last.toString('utf8') : '';
    if (last) this.push(last);
    const text = this.#buf.toString('utf8', 0, this.#length);
    this.#length = 0;
    if (this.#buf.length > KEEP_BYTES) this.#buf = Buffer.alloc(0);
    return text;
  }
}
