/**
 * Finished live-query answers kept for a few minutes, so a client that lost its connection while waiting
 * can still fetch the answer. Bounded three ways: by age, by count and by the total text held; the oldest
 * go first. Answers are kept as the JSON text the API serves, so what is held is exactly what is counted.
 */

export interface RecentAnswersLimits {
  readonly keepMs: number;
  readonly maxCount: number;
  /** Characters of answer text held in all. */
  readonly maxText: number;
}

export class RecentAnswers {
  readonly #entries = new Map<string, { text: string; atMs: number }>();
  #text = 0;

  constructor(private readonly limits: RecentAnswersLimits) {}

  /** Keeps `text` under `id`; an answer larger than the whole budget is not kept. */
  put(id: string, text: string, atMs: number): void {
    this.#prune(atMs);
    if (text.length > this.limits.maxText) return;
    this.#entries.set(id, { text, atMs });
    this.#text += text.length;
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.limits.maxCount && this.#text <= this.limits.maxText) break;
      this.#drop(oldest, entry.text);
    }
  }

  get(id: string, nowMs: number): string | undefined {
    this.#prune(nowMs);
    return this.#entries.get(id)?.text;
  }

  get size(): number {
    return this.#entries.size;
  }

  #prune(nowMs: number): void {
    for (const [id, entry] of this.#entries) {
      if (nowMs - entry.atMs <= this.limits.keepMs) break;
      this.#drop(id, entry.text);
    }
  }

  #drop(id: string, text: string): void {
    this.#entries.delete(id);
    this.#text -= text.length;
  }
}
