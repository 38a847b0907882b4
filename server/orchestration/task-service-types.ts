/** What the task service offers and what it needs (task-service.ts implements it). */
import type { AgentStreamResponse, TaskResult } from '../../protocol/index.ts';
import type { Ctx, Logger } from '../core/index.ts';
import type { EventBus } from '../events/index.ts';
import type { EnvoyEntry, FleetIndex } from '../fleet/index.ts';
import type { Store } from '../store/index.ts';
import type { StoredRollout } from './active-run.ts';
import type { HealthOutcome } from './health-check.ts';
import type { NamedTasks } from './named-tasks.ts';
import type { TaskRequest } from './task-request.ts';
import type { DryRunView, RunDetailView, RunSummaryView } from './task-views.ts';

/** What the orchestration needs of the agent streams (server/checkin AgentStreams). */
export interface TaskStreams {
  send(envoyId: string, message: AgentStreamResponse): boolean;
  isOpen(envoyId: string): boolean;
  attach(work: {
    opened?(entry: EnvoyEntry): void;
    taskResult?(entry: EnvoyEntry, result: TaskResult): void;
  }): () => void;
}

export interface TaskServiceDeps {
  readonly store: Store;
  readonly fleet: FleetIndex;
  readonly streams: TaskStreams;
  readonly traitsByHash: (hash: string) => unknown;
  readonly bus: EventBus;
  readonly log: Logger;
  /** The server's data directory: a command deleting it is refused by the guardrail. */
  readonly dataDir: string;
  readonly now?: () => number;
  /** How long after a task's own timeout the server still waits for its result. */
  readonly graceMs?: number;
  readonly tickMs?: number;
  /** Runs going at once, at most (default taskPageLimits.maxRunning). */
  readonly maxRunningRuns?: number;
  /** The named tasks of the active configuration. */
  readonly namedTasks: NamedTasks;
  readonly healthCheck?: (check: NonNullable<StoredRollout['healthCheck']>) => Promise<HealthOutcome>;
}

export interface TaskService {
  /** Starts a run, or with dryRun answers the resolved targets and the batch plan. */
  start(ctx: Ctx, request: TaskRequest): RunSummaryView | DryRunView;
  abort(ctx: Ctx, id: string, reason: string): RunSummaryView;
  /** Runs newest first; `cursor` is the nextCursor of the previous page. */
  list(options: { limit: number; cursor?: string }): { items: RunSummaryView[]; nextCursor: string | null };
  /** One run with a page of its targets (batch order). */
  get(id: string, page?: { limit: number; offset: number }): RunDetailView;
  /** Reads back running runs and carries them on (called once at start). */
  resume(): void;
  /** Stops timers and commits queued writes (the drain calls this before the store closes). */
  close(): void;
}
