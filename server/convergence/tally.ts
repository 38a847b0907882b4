/**
 * Fleet aggregates of the three axes, counted over active (not revoked) envoys. The fleet sweep, which
 * already visits every envoy off the check-in path, feeds a tally and publishes it when done, so a request
 * for the aggregates reads a finished count and never walks the fleet.
 */
import { convergenceStatuses, driftLevels, reachabilities } from './state.ts';
import type { ConvergenceStatus, DriftLevel, Reachability } from './state.ts';

export interface FleetConvergence {
  /** Active envoys counted; each axis sums to it. */
  readonly total: number;
  readonly status: Readonly<Record<ConvergenceStatus, number>>;
  readonly drift: Readonly<Record<DriftLevel, number>>;
  readonly reachability: Readonly<Record<Reachability, number>>;
  /** converged / (envoys with data), 0..1; null while no envoy has reported a run. */
  readonly convergedFraction: number | null;
  readonly computedAtMs: number;
}

const zeros = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

export interface ConvergenceTally {
  add(status: ConvergenceStatus, drift: DriftLevel, reachability: Reachability): void;
  finish(atMs: number): FleetConvergence;
}

export function createConvergenceTally(): ConvergenceTally {
  const status = zeros(convergenceStatuses);
  const drift = zeros(driftLevels);
  const reachability = zeros(reachabilities);
  let total = 0;
  return {
    add(s, d, r) {
      total += 1;
      status[s] += 1;
      drift[d] += 1;
      reachability[r] += 1;
    },
    finish(atMs) {
      const reporting = total - status.no_data;
      return {
        total,
        status,
        drift,
        reachability,
        convergedFraction: reporting === 0 ? null : status.converged / reporting,
        computedAtMs: atMs,
      };
    },
  };
}
