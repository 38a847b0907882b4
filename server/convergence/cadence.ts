/**
 * An envoy's observed check-in cadence: an exponentially weighted moving average of the gaps between its
 * check-ins, kept in memory on the check-in path (a few arithmetic operations, no I/O). Reachability is
 * measured against it, never below the interval the server hands the agent.
 */

/** Weight of the newest gap in the average. */
export const cadenceWeight = 0.25;
/**
 * A gap longer than this many cadences is an outage, not the envoy's rhythm: it is left out, so an envoy
 * that was down for a day does not get a day-long cadence (and a day before it is called stale).
 */
export const cadenceOutlierFactor = 4;

/**
 * The average after a check-in `gapMs` after the previous one. `averageMs` 0 means no gap observed yet;
 * `configuredMs` is the interval the agent was told to use.
 */
export function observeCheckInGap(averageMs: number, gapMs: number, configuredMs: number): number {
  if (!(gapMs > 0) || !Number.isFinite(gapMs)) return averageMs;
  if (gapMs > cadenceOutlierFactor * Math.max(averageMs, configuredMs)) return averageMs;
  if (averageMs === 0) return gapMs;
  return averageMs + cadenceWeight * (gapMs - averageMs);
}

/** The cadence staleness is measured against: the observed average, never below the configured interval. */
export function effectiveCadenceMs(averageMs: number, configuredMs: number): number {
  return Math.max(averageMs, configuredMs);
}
