/**
 * Delivery for one target: up to `concurrency` batches in flight, each bounded by the target's timeout;
 * an outcome is written back in one transaction per batch. A retried batch waits an exponential backoff
 * (initial × 2^(tries-1), capped, with the upper half jittered) chosen once per batch, so an e-mail digest
 * stays one mail on its retries, and the whole target waits that long before its next try, so a dead
 * endpoint sees one try per backoff, not its whole backlog; after `max_attempts` tries a delivery is dead.
 * Each target has its own worker, so a slow or dead endpoint delays nothing but its own queue.
 */
import type { Logger } from '../core/index.ts';
import type { IntegrationTarget } from './config.ts';
import type { Delivery, DeliveryQueue, DeliveryState, Settlement } from './queue.ts';
import type { Adapter, Outcome } from './adapters/types.ts';
import { errorText } from './adapters/types.ts';

export type SettledOutcome = 'delivered' | 'retried' | 'dead';

export interface WorkerObserver {
  /** One request finished after `seconds`, with this outcome for `count` deliveries. */
  sent(target: string, seconds: number): void;
  settled(target: string, outcome: SettledOutcome, deliveryIds: readonly string[], error?: string): void;
}

export interface TargetWorkerOptions {
  readonly target: IntegrationTarget;
  readonly adapter: Adapter;
  readonly queue: DeliveryQueue;
  readonly observer: WorkerObserver;
  readonly log: Logger;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** Longest a worker sleeps before looking at its queue again, whatever the next due time says. */
const maxIdleMs = 60_000;

export function backoffMs(
  target: Pick<IntegrationTarget, 'backoffInitialMs' | 'backoffMaxMs'>,
  attempts: number,
  random: number,
): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 40);
  const full = Math.min(target.backoffMaxMs, target.backoffInitialMs * 2 ** exponent);
  return Math.round(full / 2 + (random * full) / 2);
}

export class TargetWorker {
  readonly #o: TargetWorkerOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #busy = new Set<number>();
  readonly #running = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #kicked = false;
  #stopped = false;
  /** After a failed try the whole target waits out the backoff, so a dead endpoint is not hammered. */
  #pausedUntilMs = 0;

  constructor(options: TargetWorkerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  get name(): string {
    return this.#o.target.name;
  }

  /**
   * Looks at the queue soon (new rows, a finished batch); many kicks in one tick make one look. `now`
   * ends a backoff pause, for a test delivery an operator asked for.
   */
  kick(now = false): void {
    if (now) this.#pausedUntilMs = 0;
    if (this.#stopped || this.#kicked) return;
    this.#kicked = true;
    setImmediate(() => {
      this.#kicked = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#stopped) return;
    const { target, queue } = this.#o;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const pausedMs = this.#pausedUntilMs - this.#now();
    if (pausedMs > 0) {
      if (this.#running.size < target.concurrency) this.#wake(pausedMs);
      return;
    }
    try {
      while (this.#running.size < target.concurrency) {
        const batch = queue.due(target.name, this.#now(), target.batchSize, this.#busy);
        if (batch.length === 0) break;
        for (const d of batch) this.#busy.add(d.rowId);
        const run = this.#send(batch);
        this.#running.add(run);
        void run.finally(() => this.#running.delete(run));
      }
      if (this.#running.size < target.concurrency) this.#sleepUntilDue();
    } catch (err) {
      this.#o.log.error('integration queue read failed', { target: target.name, message: errorText(err) });
      this.#wake(5_000);
    }
  }

  #wake(afterMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.kick(), Math.min(afterMs, maxIdleMs));
    this.#timer.unref();
  }

  #sleepUntilDue(): void {
    const next = this.#o.queue.nextDueMs(this.#o.target.name);
    if (next === undefined) return;
    this.#wake(Math.max(next - this.#now(), 0));
  }

  async #send(batch: readonly Delivery[]): Promise<void> {
    const { target, adapter, observer } = this.#o;
    const started = performance.now();
    let outcomes: readonly Outcome[];
    try {
      const result = await adapter.send(batch);
      outcomes = Array.isArray(result) ? (result as readonly Outcome[]) : batch.map(() => result as Outcome);
    } catch (err) {
      const outcome: Outcome = { kind: 'retry', error: errorText(err) };
      outcomes = batch.map(() => outcome);
    }
    observer.sent(target.name, (performance.now() - started) / 1000);
    const delay = backoffMs(target, (batch[0]?.attempts ?? 0) + 1, this.#random());
    const settlements = batch.map((d, i) => this.#settlement(d, outcomes[i], delay));
    if (settlements.some((s) => s.state === 'pending'))
      this.#pausedUntilMs = Math.max(this.#pausedUntilMs, this.#now() + delay);
    try {
      this.#o.queue.settle(target.name, settlements);
    } catch (err) {
      // Left pending in the table: sent again after the next start (at least once).
      if (!this.#stopped)
        this.#o.log.error('integration delivery result not stored', {
          target: target.name,
          message: errorText(err),
        });
    } finally {
      for (const d of batch) this.#busy.delete(d.rowId);
    }
    this.#report(batch, settlements);
    this.kick();
  }

  #settlement(d: Delivery, outcome: Outcome | undefined, delayMs: number): Settlement {
    const attempts = d.attempts + 1;
    const now = this.#now();
    const base = { rowId: d.rowId, attempts, nextAttemptAtMs: now };
    if (outcome === undefined)
      return { ...base, state: 'pending', error: 'no outcome', nextAttemptAtMs: now + delayMs };
    if (outcome.kind === 'delivered') return { ...base, state: 'delivered', error: undefined };
    if (outcome.kind === 'dead') return { ...base, state: 'dead', error: outcome.error };
    if (attempts >= this.#o.target.maxAttempts)
      return { ...base, state: 'dead', error: `gave up after ${attempts} tries: ${outcome.error}` };
    return { ...base, state: 'pending', error: outcome.error, nextAttemptAtMs: now + delayMs };
  }

  #report(batch: readonly Delivery[], settlements: readonly Settlement[]): void {
    const groups = new Map<DeliveryState, { ids: string[]; error?: string }>();
    settlements.forEach((s, i) => {
      const group = groups.get(s.state) ?? { ids: [] };
      group.ids.push(batch[i]?.deliveryId ?? '');
      group.error ??= s.error;
      groups.set(s.state, group);
    });
    const name = this.#o.target.name;
    for (const [state, group] of groups) {
      const outcome: SettledOutcome = state === 'pending' ? 'retried' : state;
      this.#o.observer.settled(name, outcome, group.ids, group.error);
      if (state === 'dead')
        this.#o.log.warn('integration deliveries are dead', {
          target: name,
          count: group.ids.length,
          error: group.error,
        });
    }
  }

  /** Stops taking work and waits for the batches in flight (each bounded by the target's timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await Promise.allSettled([...this.#running]);
    this.#o.adapter.close();
  }
}
