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
