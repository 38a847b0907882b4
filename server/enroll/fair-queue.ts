/**
 * A bounded, fair queue for slow work that outsiders can trigger: the bcrypt comparisons of logins and
 * enrollments. At most `concurrency` jobs run at once (bcrypt runs on libuv's thread pool, 4 threads by
 * default, which file system work shares), each key — a client address — has at most one job running,
 * and waiting jobs are served round-robin by key (the key served longest ago first), so a flood from one
 * address delays another address by at most one job per flooding address. Beyond `maxWaiting` waiting
 * jobs a new one is refused at once with `rate_limited` and a Retry-After, instead of waiting behind the
 * flood.
 *
 * A flood from many addresses keeps that bound reached, so a newcomer is refused until it ends. Jobs
 * marked `priority` — logins from addresses that signed in successfully before — wait in a lane of their
 * own, with its own bound, served before the others: the people who run the server still get in.
 */
import { VigoError } from '../core/index.ts';

export interface FairQueueOptions {
  /** Jobs running at once, all keys together. */
  readonly concurrency: number;
  /** Jobs waiting at once in each lane (priority and other), all keys together; more are refused. */
  readonly maxWaiting: number;
  /** What the jobs are, plural, for the refusal: "the server is busy: 16 <what> are waiting". */
  readonly what?: string;
}

/** Two comparisons at a time leave half of libuv's default thread pool to file system work. */
export const defaultBcryptQueue: FairQueueOptions = {
  concurrency: 2,
  maxWaiting: 16,
  what: 'sign-ins and enrollments',
};

type Start = () => void;

/** Waiting jobs of one lane by key, keys in the order their first waiting job arrived. */
class Lane {
  readonly byKey = new Map<string, Start[]>();
  size = 0;

  add(key: string, start: Start): void {
    const queue = this.byKey.get(key);
    if (queue === undefined) this.byKey.set(key, [start]);
    else queue.push(start);
    this.size += 1;
  }

  take(key: string): Start {
    const queue = this.byKey.get(key) as Start[];
    const start = queue.shift() as Start;
    if (queue.length === 0) this.byKey.delete(key);
    this.size -= 1;
    return start;
  }
}

export class FairQueue {
  readonly #options: FairQueueOptions;
  readonly #priority = new Lane();
  readonly #other = new Lane();
  readonly #runningKeys = new Set<string>();
  /** When each key busy now (running or waiting) last had a job started, as a serial number. */
  readonly #lastServed = new Map<string, number>();
  #started = 0;
  #refused = 0;

  constructor(options: FairQueueOptions = defaultBcryptQueue) {
    if (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`concurrency must be a whole number above 0, got ${options.concurrency}`);
    }
    if (!Number.isSafeInteger(options.maxWaiting) || options.maxWaiting < 0) {
      throw new RangeError(`maxWaiting must be a whole number, got ${options.maxWaiting}`);
    }
    this.#options = options;
  }

  /** Jobs started since creation (for tests and metrics: each is one bcrypt comparison). */
  get started(): number {
    return this.#started;
  }

  /** Jobs refused because their lane was full. */
  get refused(): number {
    return this.#refused;
  }

  get running(): number {
    return this.#runningKeys.size;
  }

  get waiting(): number {
    return this.#priority.size + this.#other.size;
  }

  /**
   * Runs `work` for `key` when its turn comes; rejects with `rate_limited` at once when its lane is full.
   * `priority` jobs wait in their own lane and go first.
   */
  run<T>(key: string, work: () => Promise<T>, options: { priority?: boolean } = {}): Promise<T> {
    const lane = options.priority === true ? this.#priority : this.#other;
    if (lane.size >= this.#options.maxWaiting && !this.#canStart(key)) {
      this.#refused += 1;
      return Promise.reject(this.#busy(lane.size));
    }
    return new Promise<T>((resolve, reject) => {
      lane.add(key, () => {
        this.#runningKeys.add(key);
        this.#started += 1;
        work()
          .then(resolve, reject)
          .finally(() => {
            this.#runningKeys.delete(key);
            if (!this.#priority.byKey.has(key) && !this.#other.byKey.has(key)) this.#lastServed.delete(key);
            this.#dispatch();
          });
      });
      this.#dispatch();
    });
  }

  #busy(waiting: number): VigoError {
    return new VigoError(
      'rate_limited',
      `the server is busy: ${waiting} ${this.#options.what ?? 'jobs'} are waiting; try again in a second`,
      { retryAfterSeconds: 1 },
    );
  }

  #canStart(key: string): boolean {
    return this.#runningKeys.size < this.#options.concurrency && !this.#runningKeys.has(key);
  }

  /** The key of `lane` to serve next: not running, and served longest ago (never served first). */
  #nextKey(lane: Lane): string | undefined {
    let best: string | undefined;
    let bestServed = Infinity;
    for (const key of lane.byKey.keys()) {
      if (this.#runningKeys.has(key)) continue;
      const served = this.#lastServed.get(key) ?? -1;
      if (served < bestServed) {
        best = key;
        bestServed = served;
      }
    }
    return best;
  }

  /** Starts waiting jobs while slots are free, the priority lane first. */
  #dispatch(): void {
    while (this.#runningKeys.size < this.#options.concurrency) {
      let lane = this.#priority;
      let key = this.#nextKey(lane);
      if (key === undefined) {
        lane = this.#other;
        key = this.#nextKey(lane);
      }
      if (key === undefined) return;
      const start = lane.take(key);
      this.#lastServed.set(key, this.#started);
      start();
    }
  }
}
