/**
 * Write-behind for the FleetIndex: every `flushIntervalMs` the changed envoys (and new trait documents)
 * are written to SQLite in batched transactions, off the check-in path. The same tick sweeps for
 * envoys that stopped checking in (stale) and for ones that came back.
 */
import type { Logger } from '../core/index.ts';
import type { Db, Store } from '../store/index.ts';
import type { EnvoyEntry } from './envoy-entry.ts';
import type { FleetIndex } from './fleet-index.ts';

const batchSize = 500;

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
  now?: () => number;
}

export interface FleetFlusher {
  /** Writes everything pending now (used by the drain and by tests). */
  flush(): void;
  sweepStale(): StaleTransition[];
  start(): void;
  stop(): void;
}

function prepareWriters(db: Db): {
  envoy: (e: EnvoyEntry) => void;
  traits: (hash: string, json: string, at: number) => void;
} {
  const updateEnvoy = db.prepare(
    `UPDATE envoys SET last_seen_at = ?, last_ts_ms = max(last_ts_ms, ?), policy_version = ?, state_fingerprint = ?,
            traits_hash = ?, interval_ms = ?, force_push = ?, agent_version = ?
      WHERE id = ?`,
  );
  const insertTraits = db.prepare(
    'INSERT OR IGNORE INTO traits (hash, json, first_seen_at) VALUES (?, ?, ?)',
  );
  return {
    envoy: (e) =>
      updateEnvoy.run(
        e.lastSeenAtMs === 0 ? null : e.lastSeenAtMs,
        e.lastTsMs,
        e.policyVersion,
        e.stateFingerprint === '' ? null : e.stateFingerprint,
        e.traitsHash === '' ? null : e.traitsHash,
        e.intervalMs === 0 ? null : e.intervalMs,
        e.forcePush ? 1 : 0,
        e.agentVersion === '' ? null : e.agentVersion,
        e.id,
      ),
    traits: (hash, json, at) => insertTraits.run(hash, json, at),
  };
}

export function createFleetFlusher(options: FleetFlusherOptions): FleetFlusher {
  const now = options.now ?? Date.now;
  const writers = prepareWriters(options.store.db);
  let timer: NodeJS.Timeout | undefined;

  const flush = (): void => {
    const changes = options.index.takeChanges();
    if (changes.envoys.length === 0 && changes.traits.length === 0) return;
    const at = now();
    try {
      // Trait documents first: envoys reference them by hash.
      for (let i = 0; i < changes.traits.length; i += batchSize) {
        options.store.tx(() => {
          for (const [hash, json] of changes.traits.slice(i, i + batchSize)) writers.traits(hash, json, at);
        });
      }
      for (let i = 0; i < changes.envoys.length; i += batchSize) {
        options.store.tx(() => {
          for (const entry of changes.envoys.slice(i, i + batchSize)) writers.envoy(entry);
        });
      }
    } catch (err) {
      options.index.restoreChanges(changes);
      options.log.error('fleet flush failed; changes kept for the next attempt', { err });
      return;
    }
    options.log.debug('fleet flushed', { envoys: changes.envoys.length, traits: changes.traits.length });
  };

  const sweepStale = (): StaleTransition[] => {
    const at = now();
    const factor = options.staleFactor();
    const fallbackMs = options.defaultIntervalMs();
    const transitions: StaleTransition[] = [];
    for (const entry of options.index.values()) {
      if (entry.status !== 'active' || entry.lastSeenAtMs === 0) continue;
      const stale = at - entry.lastSeenAtMs > factor * (entry.intervalMs || fallbackMs);
      if (stale === entry.stale) continue;
      entry.stale = stale;
      const transition = { entry, stale };
      transitions.push(transition);
      options.onTransition?.(transition);
    }
    return transitions;
  };

  const tick = (): void => {
    flush();
    sweepStale();
    timer = setTimeout(tick, options.flushIntervalMs());
    timer.unref();
  };

  return {
    flush,
    sweepStale,
    start: () => {
      if (timer) return;
      timer = setTimeout(tick, options.flushIntervalMs());
      timer.unref();
    },
    stop: () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
