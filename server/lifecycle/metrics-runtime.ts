/**
 * Wires the metrics that read from several parts of the server: the fleet census (FleetIndex plus each
 * envoy's latest run, for convergence) and the server gauges (build, database files, results queue, fleet
 * flusher). Everything a scrape reads is in memory; the census walks the index on its own timer.
 */
import type { Registry } from 'prom-client';
import type { ResultsCommitter } from '../checkin/index.ts';
import type { FleetFlusher, FleetIndex } from '../fleet/index.ts';
import { createFleetCensus, registerServerGauges } from '../metrics/index.ts';
import type { FleetCensus } from '../metrics/index.ts';
import { createLatestRunsReader } from '../runs/index.ts';
import type { LatestRunsReader } from '../runs/index.ts';
import type { Store } from '../store/index.ts';
import { isConvergedRun, latestRunsOptions } from '../../web/index.ts';

/** How often the fleet census runs: the fleet gauges are at most this old. */
export const fleetCensusIntervalMs = 5_000;

export interface MetricsRuntimeDeps {
  readonly registry: Registry;
  readonly store: Store;
  readonly databaseFile: string;
  readonly version: string;
  readonly fleet: FleetIndex;
  readonly flusher: FleetFlusher;
  readonly results: ResultsCommitter;
  readonly resultsCapacity: number;
  /** The config version check-ins serve now. */
  readonly activeVersion: () => number;
}

export interface MetricsRuntime {
  readonly census: FleetCensus;
  /** Each envoy's latest run: the census's convergence and the dashboard read the same one. */
  readonly latestRuns: LatestRunsReader;
}

export function createMetricsRuntime(deps: MetricsRuntimeDeps): MetricsRuntime {
  registerServerGauges(deps.registry, {
    version: deps.version,
    databaseFile: deps.databaseFile,
    resultsQueued: () => deps.results.queuedResults(),
    resultsCapacity: deps.resultsCapacity,
    flushPending: () => deps.fleet.pendingCount(),
    lastFlushAtMs: () => deps.flusher.lastFlushAtMs(),
  });
  const latestRuns = createLatestRunsReader(deps.store.db, latestRunsOptions);
  const census = createFleetCensus({
    registry: deps.registry,
    envoys: () => deps.fleet.values(),
    convergence: () => {
      const runs = latestRuns.latest().runs;
      const version = deps.activeVersion();
      return (entry) => isConvergedRun(runs.get(entry.id), version);
    },
    intervalMs: fleetCensusIntervalMs,
  });
  return { census, latestRuns };
}
