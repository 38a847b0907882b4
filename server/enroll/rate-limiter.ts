/**
 * Counts failed attempts per source address in a sliding window, in memory. Enrollment is open to the
 * network, so this is what keeps a caller from guessing tokens (or burning the bcrypt thread pool) at
 * full speed. State is bounded: at most `maxFailures` timestamps per address and `maxAddresses`
 * addresses, the oldest forgotten first.
 *
 * An attempt is reserved before its slow work starts and counts as a failure from that moment; it is
 * given back only when it turns out not to have failed. Checking first and recording the failure after
 * the work would let a caller start any number of attempts at once before the first one fails (200
 * concurrent guesses got 209 tries through a limit of 10).
 */

/** One reserved attempt: a failure unless given back. */
export interface AttemptReservation {
  /** The attempt did not fail (it succeeded, or its refusal was not the caller's doing). */
  giveBack(): void;
}

export interface FailureLimiterOptions {
  readonly maxFailures: number;
  readonly windowMs: number;
  /** Beyond this many tracked addresses, the least recently failing ones are forgotten. */
  readonly maxAddresses?: number;
  readonly nowMs?: () => number;
}

export class FailureLimiter {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly #maxAddresses: number;
  readonly #nowMs: () => number;
  /** address → failure times, oldest first; Map order is least recently failing first. */
  readonly #failures = new Map<string, number[]>();

  constructor(options: FailureLimiterOptions) {
    if (!Number.isSafeInteger(options.maxFailures) || options.maxFailures < 1) {
      throw new RangeError(`maxFailures must be a whole number above 0, got ${options.maxFailures}`);
    }
    if (!(options.windowMs > 0)) throw new RangeError(`windowMs must be above 0, got ${options.windowMs}`);
    this.maxFailures = options.maxFailures;
    this.windowMs = options.windowMs;
    this.#maxAddresses = options.maxAddresses ?? 10_000;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  #recent(address: string, nowMs: number): number[] {
    const times = this.#failures.get(address);
    if (times === undefined) return [];
    const cutoff = nowMs - this.windowMs;
    const kept = times.filter((at) => at > cutoff);
    if (kept.length === 0) this.#failures.delete(address);
    else if (kept.length !== times.length) this.#failures.set(address, kept);
    return kept;
  }

  /** Milliseconds until `address` may try again; 0 when it may try now. */
  retryAfterMs(address: string): number {
    const nowMs = this.#nowMs();
    const times = this.#recent(address, nowMs);
    if (times.length < this.maxFailures) return 0;
    const oldestCounted = times[times.length - this.maxFailures] as number;
    return Math.max(1, oldestCounted + this.windowMs - nowMs);
  }

  /**
   * Takes one of `address`'s attempts now, counted as a failure until given back; undefined (nothing
   * taken) when the address has none left — `retryAfterMs` then says for how long.
   */
  reserve(address: string): AttemptReservation | undefined {
    if (this.retryAfterMs(address) > 0) return undefined;
    const at = this.recordFailure(address);
    let given = false;
    return {
      giveBack: () => {
        if (given) return;
        given = true;
        const times = this.#failures.get(address);
        const index = times?.lastIndexOf(at) ?? -1;
        if (times === undefined || index < 0) return;
        times.splice(index, 1);
        if (times.length === 0) this.#failures.delete(address);
      },
    };
  }

  /** Records a failure now and returns its time. */
  recordFailure(address: string): number {
    const nowMs = this.#nowMs();
    const times = this.#recent(address, nowMs);
    times.push(nowMs);
    // Re-inserting moves the address to the end, so eviction below drops the stalest one.
    this.#failures.delete(address);
    this.#failures.set(address, times.slice(-this.maxFailures));
    while (this.#failures.size > this.#maxAddresses) {
      const stalest = this.#failures.keys().next().value;
      if (stalest === undefined) break;
      this.#failures.delete(stalest);
    }
    return nowMs;
  }

  /** Number of addresses currently tracked (for tests and metrics). */
  get trackedAddresses(): number {
    return this.#failures.size;
  }
}
