export {
  applyRun,
  convergenceStatuses,
  divergedAfterRuns,
  driftLevels,
  failedFraction,
  initialConvergence,
  offlineFactor,
  reachabilities,
  reachabilityOf,
  runFailureStatus,
} from './state.ts';
export type {
  ConvergenceState,
  ConvergenceStatus,
  ConvergenceStep,
  ConvergenceTransition,
  DriftLevel,
  Reachability,
  RunSummary,
} from './state.ts';
export { effectiveCadenceMs, observeCheckInGap } from './cadence.ts';
export { createConvergenceTally } from './tally.ts';
export type { ConvergenceTally, FleetConvergence } from './tally.ts';
export { createConvergenceTracker, loadConvergenceStates } from './tracker.ts';
export type {
  ConvergenceHolder,
  ConvergenceTracker,
  ConvergenceTrackerOptions,
  ConvergenceTransitionEvent,
} from './tracker.ts';
export { createConvergenceHistoryReader, historyLimits, prepareReachabilityWriter } from './history.ts';
export type {
  ConvergenceHistoryItem,
  ConvergenceHistoryPage,
  ConvergenceHistoryReader,
  HistoryCause,
  ReachabilityChange,
} from './history.ts';
export { createFleetConvergenceHistory, fleetHistoryLimits } from './fleet-history.ts';
export type { FleetConvergenceHistory, FleetConvergencePoint } from './fleet-history.ts';
export { createConvergenceThresholdWatch } from './threshold.ts';
export type { ConvergenceThresholdWatch, ThresholdDrop } from './threshold.ts';
