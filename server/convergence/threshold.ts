/**
 * The fleet convergence threshold (`fleet.convergence_threshold`, percent): told every fresh fleet count, it
 * says when the converged share of reporting envoys drops below the threshold — once per drop: it re-arms
 * only after the fleet is back at or above it. A fleet where no envoy has reported a run has no share and
 * neither drops nor recovers.
 */
import type { FleetConvergence } from './tally.ts';

export interface ThresholdDrop {
  readonly thresholdPercent: number;
  readonly convergedPercent: number;
  readonly converged: number;
  readonly reporting: number;
}

export interface ConvergenceThresholdWatch {
  /** The drop to announce, if this count is the first one below the threshold. */
  observe(totals: FleetConvergence): ThresholdDrop | undefined;
}

export function createConvergenceThresholdWatch(thresholdPercent: () => number): ConvergenceThresholdWatch {
  let below = false;
  return {
    observe(totals) {
      const threshold = thresholdPercent();
      if (threshold <= 0 || totals.convergedFraction === null) {
        below = false;
        return undefined;
      }
      const percent = totals.convergedFraction * 100;
      if (percent >= threshold) {
        below = false;
        return undefined;
      }
      if (below) return undefined;
      below = true;
      return {
        thresholdPercent: threshold,
        convergedPercent: Math.round(percent * 10) / 10,
        converged: totals.status.converged,
        reporting: totals.total - totals.status.no_data,
      };
    },
  };
}
