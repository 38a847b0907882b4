/** What the task module hands around: a checked dispatch, and a task's outcome in plain data. */
import type { ResourceResult } from '../engine/index.ts';

export type TaskStatusName = 'succeeded' | 'failed' | 'timed_out' | 'rejected';

export type TaskAction =
  | { readonly kind: 'command'; readonly command: string }
  | { readonly kind: 'named'; readonly name: string; readonly params: ReadonlyMap<string, string> };

/** A TaskDispatch that respects every limit of agent.proto. */
export interface TaskRequest {
  readonly taskId: string;
  readonly action: TaskAction;
  readonly timeoutMs: number;
  /** -20..19; 0 leaves the agent's niceness. */
  readonly nice: number;
  readonly dryRun: boolean;
  readonly traceparent: string;
  /** The operator forced the task past the server's guardrail. */
  readonly force: boolean;
}

/** A TaskResult in plain data: what the agent stores and sends. */
export interface TaskOutcome {
  readonly taskId: string;
  readonly status: TaskStatusName;
  /** Exit code of a command; -1 when killed by a signal or not run; 0 for named tasks. */
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly truncated: boolean;
  /** 0 when the task never started. */
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
  /** "" on success; at most 4 KiB. */
  readonly message: string;
  readonly results: readonly ResourceResult[];
  readonly traceparent: string;
}
