/**
 * Wires the metrics that read from several parts of the server: the fleet census (FleetIndex, with each
 * envoy's convergence state) and the server gauges (build, database files, results queue, fleet
 * flusher). Everything a scrape reads is in memory; the census walks the index on its own timer.
 */
import type { Registry } from 'prom-client';
import type { ResultsCommitter } from '../checkin/index.ts';
import { registerComplianceMetrics } from '../compliance/index.ts';
import type { ComplianceService } from '../compliance/index.ts';
import type { FleetFlusher, FleetIndex } from '../fleet/index.ts';
import { envoyReachability } from '../fleet/index.ts';
import { createFleetCensus, registerServerGauges } from '../metrics/index.ts';
import type { FleetCensus } from '../metrics/index.ts';
import { createLatestRunsReader } from '../runs/index.ts';
import type { LatestRunsReader } from '../runs/index.ts';
import type { Store } from '../store/index.ts';
import { latestRunsOptions } from '../../web/index.ts';

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
  readonly compliance: ComplianceService;
  /** `metrics.compliance_per_envoy`: one vigo_compliance_status series per envoy. */
  readonly compliancePerEnvoy: boolean;
}

export interface MetricsRuntime {
  readonly census: FleetCensus;
  /** Each envoy's latest run, for the dashboard. */
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
  registerComplianceMetrics({
    registry: deps.registry,
    service: deps.compliance,
    perEnvoy: deps.compliancePerEnvoy,
    hosts: () => deps.fleet.values(),
    reachability: (host) => {
      const entry = deps.fleet.get(host.id);
      return entry === undefined ? 'offline' : envoyReachability(entry);
    },
  });
  const latestRuns = createLatestRunsReader(deps.store.db, latestRunsOptions);
  const census = createFleetCensus({
    registry: deps.registry,
    envoys: () => deps.fleet.values(),
    // The convergence model's state, kept in memory as runs arrive: the census reads no database.
    convergence: () => (entry) => entry.convergence.status === 'converged',
    intervalMs: fleetCensusIntervalMs,
  });
  return { census, latestRuns };
}
