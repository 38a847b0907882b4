/**
 * The dashboard's figures, computed in one pass over the in-memory FleetIndex plus each envoy's latest
 * run (server/runs' LatestRunsReader follows those incrementally).
 *
 * States: revoked; never seen (enrolled, no check-in yet); stale (silent for longer than its interval
 * allows); active (checking in).
 * Convergence: the share of active envoys whose latest real (not dry) run had no failures — status
 * converged or changed — and applied the active config version. An active envoy without a run counts as
 * not converged.
 */
import type { EnvoyEntry } from '../server/fleet/index.ts';
import { envoyFailing } from '../server/fleet/index.ts';
import type { LatestRun } from '../server/runs/index.ts';

export type EnvoyState = 'active' | 'stale' | 'revoked' | 'never seen';
export const envoyStates: readonly EnvoyState[] = ['active', 'stale', 'never seen', 'revoked'];

export function envoyState(entry: Pick<EnvoyEntry, 'status' | 'stale' | 'lastSeenAtMs'>): EnvoyState {
  if (entry.status === 'revoked') return 'revoked';
  if (entry.lastSeenAtMs === 0) return 'never seen';
  return entry.stale ? 'stale' : 'active';
}

/**
 * The one word a list shows for an envoy, following its convergence: only an envoy whose last run had
 * no failures is `healthy` (the green badge). A failing envoy is `failing` even while it is stale, so a
 * failing host never looks fine.
 */
export type EnvoyHealth = 'healthy' | 'failing' | 'stale' | 'no runs yet' | 'never seen' | 'revoked';
export const envoyHealths: readonly EnvoyHealth[] = [
  'healthy',
  'failing',
  'stale',
  'no runs yet',
  'never seen',
  'revoked',
];
/** Worst first when a list is sorted by state. */
export const envoyHealthRank: Readonly<Record<EnvoyHealth, number>> = {
  failing: 0,
  stale: 1,
  'never seen': 2,
  'no runs yet': 3,
  healthy: 4,
  revoked: 5,
};
/** The envoy list's status filter that lists exactly the envoys of each health word. */
export const healthFilter: Readonly<Record<EnvoyHealth, string | undefined>> = {
  healthy: undefined,
  failing: 'failing',
  stale: 'stale',
  'no runs yet': undefined,
  'never seen': 'never_seen',
  revoked: 'revoked',
};

export function envoyHealth(
  entry: Pick<EnvoyEntry, 'status' | 'stale' | 'lastSeenAtMs' | 'convergence'>,
): EnvoyHealth {
  if (entry.status === 'revoked') return 'revoked';
  if (envoyFailing(entry)) return 'failing';
  if (entry.lastSeenAtMs === 0) return 'never seen';
  if (entry.stale) return 'stale';
  return entry.convergence.status === 'converged' ? 'healthy' : 'no runs yet';
}

export interface FleetSummary {
  readonly total: number;
  readonly byState: Readonly<Record<EnvoyState, number>>;
  /** Envoys whose last check-in was less than a minute ago. */
  readonly checkedInLastMinute: number;
  readonly converged: number;
  /** The convergence denominator: active envoys. */
  readonly convergenceBase: number;
  /** Every envoy by its health word (the donut). */
  readonly byHealth: Readonly<Record<EnvoyHealth, number>>;
  /** Active envoys whose last run had failed resources (the `failing` filter). */
  readonly failing: number;
}

export function isConvergedRun(run: LatestRun | undefined, activeVersion: number | undefined): boolean {
  if (run === undefined || activeVersion === undefined) return false;
  const clean = run.status === 'converged' || (run.status === 'changed' && run.failed === 0);
  return clean && run.policyVersion === activeVersion;
}

export function summarizeFleet(
  entries: Iterable<EnvoyEntry>,
  nowMs: number,
  latestRuns: ReadonlyMap<string, LatestRun>,
  activeVersion: number | undefined,
): FleetSummary {
  const byState: Record<EnvoyState, number> = { active: 0, stale: 0, revoked: 0, 'never seen': 0 };
  const byHealth: Record<EnvoyHealth, number> = {
    healthy: 0,
    failing: 0,
    stale: 0,
    'no runs yet': 0,
    'never seen': 0,
    revoked: 0,
  };
  let total = 0;
  let checkedInLastMinute = 0;
  let converged = 0;
  const minuteAgoMs = nowMs - 60_000;
  for (const entry of entries) {
    total += 1;
    const state = envoyState(entry);
    byState[state] += 1;
    byHealth[envoyHealth(entry)] += 1;
    if (entry.lastSeenAtMs > minuteAgoMs) checkedInLastMinute += 1;
    if (state === 'active' && isConvergedRun(latestRuns.get(entry.id), activeVersion)) converged += 1;
  }
  return {
    total,
    byState,
    checkedInLastMinute,
    converged,
    convergenceBase: byState.active,
    byHealth,
    failing: byHealth.failing,
  };
}
