/**
 * The fleet as the server holds it: the FleetIndex loaded from SQLite with each envoy's convergence state,
 * the flusher that writes its hot fields behind and judges reachability (stale, convergence threshold),
 * and the results committer that stores reported runs in group commits and moves convergence.
 */
import type { CheckinMetrics, ResultsCommitter, RunRecord } from '../checkin/index.ts';
import { createResultsCommitter } from '../checkin/index.ts';
import type { LoadedConfig } from '../config/index.ts';
import {
  createConvergenceThresholdWatch,
  createConvergenceTracker,
  loadConvergenceStates,
} from '../convergence/index.ts';
import { createComplianceService } from '../compliance/index.ts';
import type { ComplianceService } from '../compliance/index.ts';
import type { Logger } from '../core/index.ts';
import { convergenceEventPublisher, staleEventPublisher } from '../events/index.ts';
import type { EventBus } from '../events/index.ts';
import { FleetIndex, createFleetFlusher, envoyReachability } from '../fleet/index.ts';
import type { FleetFlusher } from '../fleet/index.ts';
import type { Store } from '../store/index.ts';
import { checkOpenFileLimit } from './open-file-limit.ts';
import type { ConfigView } from './start.ts';

export interface FleetRuntimeDeps {
  readonly store: Store;
  readonly log: Logger;
  readonly view: ConfigView;
  readonly config: LoadedConfig['config'];
  readonly bus: EventBus;
  readonly checkinMetrics: CheckinMetrics;
}

export interface FleetRuntime {
  readonly fleet: FleetIndex;
  readonly flusher: FleetFlusher;
  readonly results: ResultsCommitter;
  /** Results the committer queues at most. */
  readonly resultsCapacity: number;
  /** Adds a listener told of every stored run, after the envoy's convergence moved with it. */
  readonly onRunCommitted: (listener: (run: RunRecord) => void) => void;
  /** Framework compliance, moved by stored runs; the policy runtime hands it each activated configuration. */
  readonly compliance: ComplianceService;
}

/** Resources named in one run.failed or resource.blocked event at most; the count is always exact. */
const maxNamedResources = 20;

/**
 * `run.failed` for a run with failed resources and `resource.blocked` for one with blocked resources
 * (each once per run, naming the first resources), so alert sinks need not read every run.reported.
 */
function publishRunProblems(bus: EventBus, run: RunRecord): void {
  for (const [type, outcome] of [
    ['run.failed', 'failed'],
    ['resource.blocked', 'blocked'],
  ] as const) {
    const hit = run.results.filter((r) => r.outcome === outcome);
    if (hit.length === 0) continue;
    bus.publish(
      type,
      {
        runId: run.runId,
        envoyId: run.envoyId,
        policyVersion: run.policyVersion,
        dryRun: run.dryRun,
        count: hit.length,
        resources: hit.slice(0, maxNamedResources).map((r) => ({
          id: r.resourceId,
          type: r.resourceType,
          message: r.message.slice(0, 500),
        })),
      },
      run.envoyId,
    );
  }
}

export function createFleetRuntime(deps: FleetRuntimeDeps): FleetRuntime {
  const { store, log, view, config, bus, checkinMetrics } = deps;
  const publishStale = staleEventPublisher(bus);
  const bootStartedMs = performance.now();
  const fleet = FleetIndex.load(store.db, log.child({ component: 'fleet' }));
  const convergenceStates = loadConvergenceStates(store.db, (id) => fleet.get(id));
  log.info('fleet index loaded', {
    envoys: fleet.size,
    convergenceStates,
    durationMs: Math.round(performance.now() - bootStartedMs),
  });
  checkOpenFileLimit(config, fleet, log);
  const thresholdWatch = createConvergenceThresholdWatch(() => view.current['fleet.convergence_threshold']);
  const flusher = createFleetFlusher({
    store,
    index: fleet,
    log: log.child({ component: 'fleet' }),
    flushIntervalMs: () => view.current['fleet.flush_interval'],
    defaultIntervalMs: () => view.current['checkin.interval'],
    staleFactor: () => view.current['checkin.stale_factor'],
    onConvergenceTotals: (totals) => {
      const drop = thresholdWatch.observe(totals);
      if (drop === undefined) return;
      bus.publish('convergence.threshold', { ...drop });
      log.warn('fleet convergence dropped below its threshold', { ...drop });
    },
    onTransition: (transition) => {
      const { entry, stale } = transition;
      checkinMetrics.stateTransitions.inc({ transition: stale ? 'offline' : 'online' });
      publishStale(transition);
      log.info(stale ? 'envoy became stale' : 'envoy is back', {
        envoyId: entry.id,
        hostname: entry.hostname,
      });
    },
  });
  const compliance = createComplianceService({
    db: store.db,
    log: log.child({ component: 'compliance' }),
    bus,
    host: (id) => fleet.get(id),
    hosts: () => fleet.values(),
    reachability: (host) => {
      const entry = fleet.get(host.id);
      return entry === undefined ? 'offline' : envoyReachability(entry);
    },
  });
  const resultsCapacity = 50_000;
  const runListeners: ((run: RunRecord) => void)[] = [];
  const results = createResultsCommitter({
    store,
    log: log.child({ component: 'results' }),
    maxQueuedResults: resultsCapacity,
    maxDelayMs: 20,
    convergence: createConvergenceTracker({
      db: store.db,
      holder: (id) => fleet.get(id),
      onTransition: convergenceEventPublisher(bus),
    }),
    compliance,
    onCommitted: (run) => {
      bus.publish(
        'run.reported',
        {
          runId: run.runId,
          envoyId: run.envoyId,
          policyVersion: run.policyVersion,
          dryRun: run.dryRun,
          resources: run.results.length,
          failed: run.results.filter((r) => r.outcome === 'failed').length,
        },
        run.envoyId,
      );
      for (const listener of runListeners) listener(run);
      publishRunProblems(bus, run);
    },
  });
  return {
    fleet,
    flusher,
    results,
    resultsCapacity,
    compliance,
    onRunCommitted: (listener) => void runListeners.push(listener),
  };
}
