/**
 * The fleet gauges: how many envoys are enrolled, active, stale, never seen and revoked, how long ago each
 * checked in (a histogram), and the convergence share. They describe all of the FleetIndex at one moment,
 * so a census walks the index in memory on a timer and a scrape only reads its last result: a scrape
 * never walks 100,000 envoys and never touches the database.
 *
 * States (as on the dashboard): revoked; never seen (enrolled, no check-in yet); stale (silent for longer
 * than its interval allows, as the fleet flusher's sweep decides); active (checking in).
 * `vigo_nodes_active_total` follows Vigo: envoys that checked in within the last hour.
 * Convergence: the share of active envoys whose convergence status is converged (docs/convergence.md).
 */
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { convergenceStatuses, driftLevels, reachabilities } from '../convergence/index.ts';
import type { ConvergenceStatus, DriftLevel, Reachability } from '../convergence/index.ts';
import type { EnvoyEntry } from '../fleet/index.ts';
import { envoyReachability } from '../fleet/index.ts';
import { SnapshotHistogram } from './snapshot-histogram.ts';

/** Vigo's buckets for seconds since the last check-in. */
export const checkinAgeBucketsSeconds = [5, 15, 30, 45, 60, 120, 300, 600, 900, 1800, 3600, 7200] as const;

export const censusStates = ['active', 'stale', 'never_seen', 'revoked'] as const;
export type CensusState = (typeof censusStates)[number];

const activeWindowMs = 3_600_000;

/** The longest the timer's census holds the event loop at a time, and the most envoys it counts then. */
export const censusSliceMs = 2;
export const censusSliceEnvoys = 4096;

export interface CensusResult {
  readonly atMs: number;
  /** Enrolled envoys: every one not revoked. */
  readonly enrolled: number;
  /** Not revoked, and checked in within the last hour. */
  readonly checkedInLastHour: number;
  readonly byState: Readonly<Record<CensusState, number>>;
  /** Active envoys whose latest run converged on the active config. */
  readonly converged: number;
  /** converged / active, 0 when no envoy is active. */
  readonly convergence: number;
  /** Enrolled envoys by convergence status, drift and reachability (docs/convergence.md). */
  readonly byConvergence: Readonly<Record<ConvergenceStatus, number>>;
  readonly byDrift: Readonly<Record<DriftLevel, number>>;
  readonly byReachability: Readonly<Record<Reachability, number>>;
  /** How long the walk took. */
  readonly durationMs: number;
}

export interface FleetCensusOptions {
  readonly registry: Registry;
  /** Every envoy (the FleetIndex's values()). */
  readonly envoys: () => Iterable<EnvoyEntry>;
  /**
   * Called once per census: says whether an active envoy's latest run converged. Without it no envoy
   * counts as converged.
   */
  readonly convergence?: () => (entry: EnvoyEntry) => boolean;
  /** How often the census runs once started. */
  readonly intervalMs: number;
  readonly now?: () => number;
}

export interface FleetCensus {
  /** Walks the fleet now and publishes the result to the gauges. */
  take(): CensusResult;
  /** The result the gauges show (undefined before the first census). */
  readonly last: CensusResult | undefined;
  /** Takes a census now and then every intervalMs. */
  start(): void;
  stop(): void;
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

function stateOf(entry: EnvoyEntry): CensusState {
  if (entry.status === 'revoked') return 'revoked';
  if (entry.lastSeenAtMs === 0) return 'never_seen';
  return entry.stale ? 'stale' : 'active';
}

export function createFleetCensus(options: FleetCensusOptions): FleetCensus {
  const now = options.now ?? Date.now;
  const { registry } = options;
  let last: CensusResult | undefined;
  let timer: NodeJS.Timeout | undefined;

  const nodesTotal = new Gauge({
    name: 'vigo_nodes_total',
    help: 'Enrolled envoys (revoked ones excluded).',
    registers: [registry],
  });
  const nodesActive = new Gauge({
    name: 'vigo_nodes_active_total',
    help: 'Enrolled envoys that checked in within the last hour.',
    registers: [registry],
  });
  const envoys = new Gauge({
    name: 'vigo_envoys',
    help: 'Envoys by state: active, stale (silent longer than its interval allows), never_seen, revoked.',
    labelNames: ['state'],
    registers: [registry],
  });
  const converged = new Gauge({
    name: 'vigo_envoys_converged',
    help: 'Active envoys whose convergence status is converged: their latest counted run failed nothing (docs/convergence.md).',
    registers: [registry],
  });
  const convergence = new Gauge({
    name: 'vigo_convergence_pct',
    help: 'Fleet convergence as a fraction 0.0-1.0: vigo_envoys_converged / active envoys (0 with none active).',
    registers: [registry],
  });
  const censusTime = new Gauge({
    name: 'vigo_fleet_census_timestamp_seconds',
    help: 'When the fleet gauges and vigo_checkin_age_seconds were last computed (Unix time).',
    registers: [registry],
  });
  const ages = new SnapshotHistogram({
    name: 'vigo_checkin_age_seconds',
    help: 'Seconds since the last check-in, across enrolled envoys that have checked in (a snapshot, not events).',
    buckets: checkinAgeBucketsSeconds,
    registry,
  });
  for (const state of censusStates) envoys.set({ state }, 0);
  const byConvergenceGauge = new Gauge({
    name: 'vigo_envoys_convergence',
    help: 'Enrolled envoys by convergence status: converged, degraded, failed, no_data (docs/convergence.md).',
    labelNames: ['status'],
    registers: [registry],
  });
  const byDriftGauge = new Gauge({
    name: 'vigo_envoys_drift',
    help: 'Enrolled envoys by drift: none, changed, diverged (docs/convergence.md).',
    labelNames: ['drift'],
    registers: [registry],
  });
  const byReachabilityGauge = new Gauge({
    name: 'vigo_envoys_reachability',
    help: 'Enrolled envoys by reachability: online, stale, offline (docs/convergence.md).',
    labelNames: ['reachability'],
    registers: [registry],
  });
  for (const status of convergenceStatuses) byConvergenceGauge.set({ status }, 0);
  for (const drift of driftLevels) byDriftGauge.set({ drift }, 0);
  for (const reachability of reachabilities) byReachabilityGauge.set({ reachability }, 0);

  /** One walk's counts: envoys are added one by one, in one go or in slices. */
  const tally = () => {
    const atMs = now();
    const isConverged = options.convergence?.();
    const byState: Record<CensusState, number> = { active: 0, stale: 0, never_seen: 0, revoked: 0 };
    const ageTally = ages.tally();
    let recent = 0;
    let convergedCount = 0;
    const byConvergence = zeros(convergenceStatuses);
    const byDrift = zeros(driftLevels);
    const byReachability = zeros(reachabilities);
    return {
      add(entry: EnvoyEntry): void {
        const state = stateOf(entry);
        byState[state] += 1;
        if (state === 'revoked') return;
        byConvergence[entry.convergence.status] += 1;
        byDrift[entry.convergence.drift] += 1;
        byReachability[envoyReachability(entry)] += 1;
        if (state === 'never_seen') return;
        const ageMs = Math.max(0, atMs - entry.lastSeenAtMs);
        ageTally.add(ageMs / 1000);
        if (ageMs <= activeWindowMs) recent += 1;
        if (state === 'active' && isConverged?.(entry) === true) convergedCount += 1;
      },
      publish(durationMs: number): CensusResult {
        const enrolled = byState.active + byState.stale + byState.never_seen;
        const result: CensusResult = {
          atMs,
          enrolled,
          checkedInLastHour: recent,
          byState,
          converged: convergedCount,
          convergence: byState.active === 0 ? 0 : convergedCount / byState.active,
          byConvergence,
          byDrift,
          byReachability,
          durationMs,
        };
        nodesTotal.set(enrolled);
        nodesActive.set(recent);
        for (const state of censusStates) envoys.set({ state }, byState[state]);
        converged.set(convergedCount);
        convergence.set(result.convergence);
        censusTime.set(atMs / 1000);
        for (const status of convergenceStatuses) byConvergenceGauge.set({ status }, byConvergence[status]);
        for (const drift of driftLevels) byDriftGauge.set({ drift }, byDrift[drift]);
        for (const reachability of reachabilities)
          byReachabilityGauge.set({ reachability }, byReachability[reachability]);
        ages.replace(ageTally.snapshot());
        last = result;
        return result;
      },
    };
  };

  const take = (): CensusResult => {
    const startedAt = performance.now();
    const counts = tally();
    for (const entry of options.envoys()) counts.add(entry);
    return counts.publish(performance.now() - startedAt);
  };

  /**
   * The timer's walk: a slice of at most sliceMs, then the event loop, then the next slice, so that a
   * census of 100,000 envoys never holds check-ins up for the whole walk. A Map iterator stays valid while
   * envoys are added or removed meanwhile. durationMs is the walk's busy time.
   */
  let walking = false;
  let stopped = false;
  const walk = (): void => {
    if (walking) return;
    walking = true;
    const counts = tally();
    const envoysLeft = options.envoys()[Symbol.iterator]();
    let busyMs = 0;
    const slice = (): void => {
      if (stopped) {
        walking = false;
        return;
      }
      const startedAt = performance.now();
      for (let n = 1; ; n++) {
        const next = envoysLeft.next();
        if (next.done === true) {
          counts.publish(busyMs + performance.now() - startedAt);
          walking = false;
          return;
        }
        counts.add(next.value);
        if (n >= censusSliceEnvoys || (n % 512 === 0 && performance.now() - startedAt >= censusSliceMs))
          break;
      }
      busyMs += performance.now() - startedAt;
      setImmediate(slice);
    };
    slice();
  };

  const stop = (): void => {
    stopped = true;
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };

  return {
    take,
    get last() {
      return last;
    },
    start: () => {
      stop();
      stopped = false;
      walk();
      timer = setInterval(walk, options.intervalMs);
      timer.unref();
    },
    stop,
  };
}
