/**
 * Keeps the last `capacity` bytes written to it in a fixed ring, whatever the total: a task that prints
 * gigabytes costs the agent `capacity` bytes per stream, never more.
 */
export class TailBuffer {
  readonly #ring: Buffer;
  /** Where the next byte goes. */
  #end = 0;
  #total = 0;

  constructor(readonly capacity: number) {
    this.#ring = Buffer.alloc(capacity);
  }

  /** Bytes written in all. */
  get totalBytes(): number {
    return this.#total;
  }

  /** Bytes were written beyond the capacity and the earliest were dropped. */
  get truncated(): boolean {
    return this.#total > this.capacity;
  }

  push(chunk: Uint8Array): void {
    const cap = this.capacity;
    this.#total += chunk.length;
    if (cap === 0) return;
    // Only the last `cap` bytes of a chunk can survive it.
    const part = chunk.length > cap ? chunk.subarray(chunk.length - cap) : chunk;
    const first = Math.min(part.length, cap - this.#end);
    this.#ring.set(part.subarray(0, first), this.#end);
    this.#ring.set(part.subarray(first), 0);
    this.#end = (this.#end + part.length) % cap;
  }

  /** The kept bytes, oldest first (a copy). */
  bytes(): Buffer {
    if (this.#total < this.capacity) return Buffer.from(this.#ring.subarray(0, this.#end));
    return Buffer.concat([this.#ring.subarray(this.#end), this.#ring.subarray(0, this.#end)]);
  }
}
