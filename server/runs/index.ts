export { createRunsReader, runListLimits, runStatuses } from './runs-reader.ts';
export type {
  ListRunsOptions,
  ResourceOutcomeView,
  RunDetail,
  RunPage,
  RunStatus,
  RunView,
  RunsReader,
} from './runs-reader.ts';
export { createLatestRunsReader } from './latest-runs.ts';
export type { LatestRun, LatestRuns, LatestRunsOptions, LatestRunsReader } from './latest-runs.ts';
export { isHeartbeat, prepareRunWriter, resourceSetDigest, runStatus } from './run-writer.ts';
export type { RunWriter, StoredOutcome, StoredResult, StoredRun } from './run-writer.ts';
