/**
 * Write-behind for the FleetIndex: every `flushIntervalMs` the changed envoys (and new trait documents)
 * are written to SQLite, off the check-in path. The same tick sweeps for envoys that stopped checking in
 * (stale) and for ones that came back.
 *
 * At a large fleet's check-in rate a tick has thousands of rows to write and 100,000 entries to sweep;
 * done in one go that stalls the event loop for 100+ ms, which every call in flight waits out. So the
 * timer-driven work runs in slices of about `sliceMs` each (a transaction of at most `rowsPerTransaction`
 * rows, or part of the sweep), with check-ins served between slices.
 */
import {
  createConvergenceTally,
  effectiveCadenceMs,
  prepareReachabilityWriter,
  reachabilityOf,
} from '../convergence/index.ts';
import type { ConvergenceTally, FleetConvergence, ReachabilityChange } from '../convergence/index.ts';
import type { Logger } from '../core/index.ts';
import type { Db, Store } from '../store/index.ts';
import type { EnvoyEntry } from './envoy-entry.ts';
import type { FleetIndex } from './fleet-index.ts';
import { envoyReachability } from './reachability.ts';

const rowsPerTransaction = 500;
const defaultSliceMs = 4;
/** Entries swept between two looks at the clock. */
const sweepClockStride = 1024;

export interface StaleTransition {
  entry: EnvoyEntry;
  stale: boolean;
}

export interface FleetFlusherOptions {
  store: Store;
  index: FleetIndex;
  log: Logger;
  flushIntervalMs: () => number;
  /** Interval assumed for envoys that have not reported one yet. */
  defaultIntervalMs: () => number;
  staleFactor: () => number;
  onTransition?: (transition: StaleTransition) => void;
  /** Told the fleet convergence aggregates each time a sweep has counted them. */
  onConvergenceTotals?: (totals: FleetConvergence) => void;
  now?: () => number;
  /**
   * How long one timer-driven slice (a transaction of at most 500 rows, or part of the sweep) may run
   * before the event loop gets a turn; default 4 ms.
   */
  sliceMs?: number;
}

export interface FleetFlusher {
  /**
   * Writes everything pending now, synchronously, including the rest of a sliced flush in progress
   * (used by the drain and by tests).
   */
  flush(): void;
  /** Sweeps every entry now, synchronously; returns the transitions it made. */
  sweepStale(): StaleTransition[];
  start(): void;
  /** Stops the timer; a sliced flush in progress puts its unwritten rows back for the next flush(). */
  stop(): void;
  /** When a flush last finished with nothing left to write (epoch ms; 0 before the first). */
  lastFlushAtMs(): number;
}

interface Writers {
  /** Writes the entry's row; true when that wrote its traits_hash too. */
  envoy: (e: EnvoyEntry) => boolean;
  traits: (hash: string, json: string, at: number) => void;
  reachability: (change: ReachabilityChange) => void;
}

/** One batch of changes taken from the index, written a transaction at a time. */
interface FlushRun {
  envoys: EnvoyEntry[];
  traits: [string, string][];
  reachability: ReachabilityChange[];
  atMs: number;
  traitsWritten: number;
  envoysWritten: number;
  reachabilityWritten: number;
  finished: boolean;
}

interface Sweep {
  entries: Iterator<EnvoyEntry>;
  atMs: number;
  factor: number;
  fallbackMs: number;
  /** Collected for sweepStale()'s caller; the timer-driven sweep only reports through onTransition. */
  transitions: StaleTransition[] | undefined;
  /** Fleet convergence aggregates, published on the index when the sweep is done. */
  tally: ConvergenceTally;
  done: (totals: FleetConvergence) => void;
  /**
   * Whether reachability transitions go to convergence_history. Not during the first sweep after a start:
   * it re-derives every envoy's reachability from its last-seen time rather than seeing it change.
   */
  record: boolean;
}

function prepareWriters(db: Db): Writers {
  const columns = `last_seen_at = ?, last_ts_ms = max(last_ts_ms, ?), policy_version = ?, state_fingerprint = ?,
            interval_ms = ?, force_push = ?, agent_version = ?`;
  // Most rows keep their traits: leaving traits_hash out of the SET list spares its index and foreign key.
  const updateEnvoy = db.prepare(`UPDATE envoys SET ${columns} WHERE id = ?`);
  const updateEnvoyAndTraits = db.prepare(`UPDATE envoys SET ${columns}, traits_hash = ? WHERE id = ?`);
  const insertTraits = db.prepare(
    'INSERT OR IGNORE INTO traits (hash, json, first_seen_at) VALUES (?, ?, ?)',
  );
  return {
    envoy: (e) => {
      const values = [
        e.lastSeenAtMs === 0 ? null : e.lastSeenAtMs,
        e.lastTsMs,
        e.policyVersion,
        e.stateFingerprint === '' ? null : e.stateFingerprint,
        e.intervalMs === 0 ? null : e.intervalMs,
        e.forcePush ? 1 : 0,
        e.agentVersion === '' ? null : e.agentVersion,
      ];
      if (e.traitsHash === e.storedTraitsHash) {
        updateEnvoy.run(...values, e.id);
        return false;
      }
      updateEnvoyAndTraits.run(...values, e.traitsHash === '' ? null : e.traitsHash, e.id);
      return true;
    },
    traits: (hash, json, at) => insertTraits.run(hash, json, at),
    reachability: prepareReachabilityWriter(db),
  };
}

/**
 * Writes `rows` from `from` on with `write`, up to `rowsPerTransaction` of them and stopping early once
 * `deadlineMs` (performance.now()) has passed; returns how many it wrote (at least one).
 */
function writeRows<T>(rows: readonly T[], from: number, deadlineMs: number, write: (row: T) => void): number {
  const end = Math.min(rows.length, from + rowsPerTransaction);
  let i = from;
  while (i < end) {
    write(rows[i]!);
    i++;
    if (performance.now() >= deadlineMs) break;
  }
  return i - from;
}

/** Sweeps entries until all are done (false) or `deadlineMs` (performance.now()) has passed (true). */
function sweepSlice(
  sweep: Sweep,
  deadlineMs: number,
  onTransition: ((transition: StaleTransition) => void) | undefined,
  queue: (change: ReachabilityChange) => void,
): boolean {
  for (let swept = 1; ; swept++) {
    const next = sweep.entries.next();
    if (next.done === true) {
      sweep.done(sweep.tally.finish(sweep.atMs));
      return false;
    }
    const entry = next.value;
    if (entry.status === 'active' && entry.lastSeenAtMs !== 0) {
      const cadenceMs = effectiveCadenceMs(entry.observedCadenceMs, entry.intervalMs || sweep.fallbackMs);
      const reachability = reachabilityOf(entry.lastSeenAtMs, cadenceMs, sweep.factor, sweep.atMs);
      const before = envoyReachability(entry);
      if (sweep.record && before !== reachability) {
        const { status, drift, changedStreak } = entry.convergence;
        queue({
          envoyId: entry.id,
          atMs: sweep.atMs,
          from: before,
          to: reachability,
          status,
          drift,
          changedStreak,
        });
      }
      const stale = reachability !== 'online';
      entry.offline = reachability === 'offline';
      if (stale !== entry.stale) {
        entry.stale = stale;
        const transition = { entry, stale };
        sweep.transitions?.push(transition);
        onTransition?.(transition);
      }
    }
    if (entry.status === 'active')
      sweep.tally.add(entry.convergence.status, entry.convergence.drift, envoyReachability(entry));
    if (swept % sweepClockStride === 0 && performance.now() >= deadlineMs) return true;
  }
}

export function createFleetFlusher(options: FleetFlusherOptions): FleetFlusher {
  const now = options.now ?? Date.now;
  const sliceMs = options.sliceMs ?? defaultSliceMs;
  const { index, log, store } = options;
  const writers = prepareWriters(store.db);
  /** Bumped by stop(): a slice of an older generation finds it changed and ends its chain. */
  let generation = 0;
  let started = false;
  let timer: NodeJS.Timeout | undefined;
  /** The next slice of the timer-driven flush or sweep. */
  let slice: NodeJS.Immediate | undefined;
  /** The timer-driven flush whose rows are not all written yet. */
  let running: FlushRun | undefined;
  let lastFlushAtMs = 0;

  /** Whether a sweep has visited every entry since this flusher was created (see Sweep.record). */
  let baselined = false;

  const takeRun = (): FlushRun | undefined => {
    const { envoys, traits, reachability } = index.takeChanges();
    if (envoys.length === 0 && traits.length === 0 && reachability.length === 0) {
      lastFlushAtMs = now();
      return undefined;
    }
    return {
      envoys,
      traits,
      reachability,
      atMs: now(),
      traitsWritten: 0,
      envoysWritten: 0,
      reachabilityWritten: 0,
      finished: false,
    };
  };

  /** Hands the rows `run` has not written back to the index, so the next flush writes them. */
  const putBack = (run: FlushRun): void => {
    run.finished = true;
    index.restoreChanges({
      envoys: run.envoys.slice(run.envoysWritten),
      traits: run.traits.slice(run.traitsWritten),
      reachability: run.reachability.slice(run.reachabilityWritten),
    });
  };

  /** Writes one envoy row; `retraited` collects the entries whose traits_hash it wrote. */
  const writeEnvoy = (entry: EnvoyEntry, atMs: number, retraited: EnvoyEntry[]): void => {
    // A check-in between two slices may point an envoy of this batch at trait documents that arrived
    // after the batch was taken; the row references them, so they go into the same transaction.
    const traitsJson = entry.traitsHash === '' ? undefined : index.pendingTraitsJson(entry.traitsHash);
    if (traitsJson !== undefined) writers.traits(entry.traitsHash, traitsJson, atMs);
    if (writers.envoy(entry)) retraited.push(entry);
  };

  /**
   * Writes the next transaction of `run`, of at most `rowsPerTransaction` rows and stopping early once
   * `deadlineMs` (performance.now()) has passed; returns true while rows remain.
   */
  const writeSlice = (run: FlushRun, deadlineMs: number): boolean => {
    if (run.finished) return false;
    try {
      // Trait documents first: envoys reference them by hash.
      if (run.traitsWritten < run.traits.length) {
        run.traitsWritten += store.tx(() =>
          writeRows(run.traits, run.traitsWritten, deadlineMs, ([hash, json]) =>
            writers.traits(hash, json, run.atMs),
          ),
        );
      } else if (run.envoysWritten === run.envoys.length) {
        // Reachability transitions last: they only append history rows.
        run.reachabilityWritten += store.tx(() =>
          writeRows(run.reachability, run.reachabilityWritten, deadlineMs, writers.reachability),
        );
      } else {
        const retraited: EnvoyEntry[] = [];
        run.envoysWritten += store.tx(() =>
          writeRows(run.envoys, run.envoysWritten, deadlineMs, (entry) =>
            writeEnvoy(entry, run.atMs, retraited),
          ),
        );
        // Only once committed: a rolled-back row still holds the old traits_hash.
        for (const entry of retraited) entry.storedTraitsHash = entry.traitsHash;
      }
    } catch (err) {
      putBack(run);
      log.error('fleet flush failed; changes kept for the next attempt', { err });
      return false;
    }
    if (
      run.traitsWritten < run.traits.length ||
      run.envoysWritten < run.envoys.length ||
      run.reachabilityWritten < run.reachability.length
    )
      return true;
    run.finished = true;
    lastFlushAtMs = now();
    log.debug('fleet flushed', {
      envoys: run.envoys.length,
      traits: run.traits.length,
      reachability: run.reachability.length,
    });
    return false;
  };

  const flush = (): void => {
    const noDeadline = Number.POSITIVE_INFINITY;
    if (running !== undefined) while (writeSlice(running, noDeadline));
    const run = takeRun();
    if (run !== undefined) while (writeSlice(run, noDeadline));
  };

  const startSweep = (collect: boolean): Sweep => ({
    entries: index.values(),
    atMs: now(),
    factor: options.staleFactor(),
    fallbackMs: options.defaultIntervalMs(),
    transitions: collect ? [] : undefined,
    tally: createConvergenceTally(),
    done: (totals) => {
      baselined = true;
      index.setConvergenceTotals(totals);
      options.onConvergenceTotals?.(totals);
    },
    record: baselined,
  });
  const queue = (change: ReachabilityChange): void => index.queueReachabilityChange(change);

  const sweepStale = (): StaleTransition[] => {
    const sweep = startSweep(true);
    sweepSlice(sweep, Number.POSITIVE_INFINITY, options.onTransition, queue);
    return sweep.transitions ?? [];
  };

  const schedule = (): void => {
    timer = setTimeout(tick, options.flushIntervalMs());
    timer.unref();
  };

  const continueSweep = (sweep: Sweep, chain: number): void => {
    slice = undefined;
    const more = sweepSlice(sweep, performance.now() + sliceMs, options.onTransition, queue);
    if (chain !== generation) return;
    if (more) slice = setImmediate(continueSweep, sweep, chain);
    else schedule();
  };

  const continueFlush = (run: FlushRun | undefined, chain: number): void => {
    slice = undefined;
    const more = run !== undefined && writeSlice(run, performance.now() + sliceMs);
    if (chain !== generation) return;
    if (more) {
      slice = setImmediate(continueFlush, run, chain);
      return;
    }
    running = undefined;
    continueSweep(startSweep(false), chain);
  };

  function tick(): void {
    timer = undefined;
    running = takeRun();
    continueFlush(running, generation);
  }

  return {
    flush,
    sweepStale,
    start: () => {
      if (started) return;
      started = true;
      schedule();
    },
    stop: () => {
      generation += 1;
      started = false;
      if (timer !== undefined) clearTimeout(timer);
      if (slice !== undefined) clearImmediate(slice);
      timer = undefined;
      slice = undefined;
      if (running !== undefined && !running.finished) putBack(running);
      running = undefined;
    },
    lastFlushAtMs: () => lastFlushAtMs,
  };
}
