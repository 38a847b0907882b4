/**
 * The host-wide work lock. Everything that changes the host — a convergence pass and every dispatched
 * task — runs under it, one holder at a time, in the order they asked (FIFO). So a task never runs while
 * the agent converges, a convergence pass never starts under a running task, and two tasks never overlap:
 * what one of them changes is never half-seen by another. Live queries only read and do not take it.
 */
export class WorkLock {
  readonly #waiters: (() => void)[] = [];
  #held = false;

  /** Whether something holds the lock now. */
  get held(): boolean {
    return this.#held;
  }

  /** How many callers wait for the lock. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Runs `work` once every earlier caller has finished, then lets the next one in. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await work();
    } finally {
      this.#release();
    }
  }

  #acquire(): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next === undefined) this.#held = false;
    else next();
  }
}
