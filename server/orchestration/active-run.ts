/**
 * One task run while it is running: its targets in memory, which batch is out, how many failed, and
 * whether the rest is being stopped. The TaskService drives it; this file holds the decisions that
 * follow from its state (which targets to stop, when a batch is done, what the run's outcome is).
 */
import type { Rollout } from './task-request.ts';
import type { Amount } from './rolling.ts';
import { failureAllowance } from './rolling.ts';
import type { ReportedStatus, RunRow, RunStatus, TargetState } from './tasks-store.ts';

export interface LiveTarget {
  readonly taskId: string;
  readonly runId: string;
  readonly envoyId: string;
  readonly hostname: string;
  readonly batch: number;
  state: TargetState;
  /** When the dispatch was last written to the envoy's stream; undefined while undelivered. */
  sentAt: number | undefined;
  deadlineAt: number | undefined;
  reported: boolean;
}

/** Failures count against max-failures: the target did not run successfully for a reason of its own. */
const failureStates: ReadonlySet<TargetState> = new Set(['failed', 'timed_out', 'rejected', 'expired']);
const openStates: ReadonlySet<TargetState> = new Set(['pending', 'dispatched']);

export function isFailure(state: TargetState): boolean {
  return failureStates.has(state);
}

export function isOpen(state: TargetState): boolean {
  return openStates.has(state);
}

export function stateOfReport(status: ReportedStatus): TargetState {
  return status;
}

/** The rollout as stored in task_runs.rollout. */
export interface StoredRollout {
  batchSize?: Amount;
  maxFailures?: Amount;
  canary?: number;
  healthCheck?: Rollout['healthCheck'];
  pauseSeconds: number;
  targets: readonly string[];
  where: readonly string[];
  /** The run was forced past the server's guardrail; its dispatches say so (absent when not). */
  force?: true;
  /** The traceparent of the request that started the run; its dispatches carry it (absent when none). */
  traceparent?: string;
}

export class ActiveRun {
  readonly byBatch: LiveTarget[][];
  readonly allowance: number | undefined;
  /** Why the rest of the run was stopped (abort, health check, failures); undefined while it goes on. */
  stopReason: string | undefined;
  /** Between two batches (health check, pause) the next batch is not out yet. */
  between = false;
  timer: NodeJS.Timeout | undefined;

  constructor(
    readonly row: RunRow,
    readonly rollout: StoredRollout,
    readonly targets: readonly LiveTarget[],
  ) {
    this.byBatch = Array.from({ length: row.batches }, () => []);
    for (const target of targets) this.byBatch[target.batch - 1]?.push(target);
    this.allowance = failureAllowance(rollout.maxFailures, targets.length);
  }

  get id(): string {
    return this.row.id;
  }

  failures(): number {
    return this.targets.filter((t) => isFailure(t.state)).length;
  }

  /** Every target of the current batch has an outcome. */
  batchDone(): boolean {
    const batch = this.byBatch[this.row.current_batch - 1];
    return batch !== undefined && batch.every((t) => !isOpen(t.state));
  }

  /** Targets still waiting for a result that was delivered (they finish on their own). */
  inFlight(): LiveTarget[] {
    return this.targets.filter((t) => t.state === 'dispatched' && t.sentAt !== undefined);
  }

  /** Targets to mark aborted when the rest is stopped: not out yet, or out but never delivered. */
  stoppable(): LiveTarget[] {
    return this.targets.filter(
      (t) => t.state === 'pending' || (t.state === 'dispatched' && t.sentAt === undefined),
    );
  }

  counts(): Record<TargetState, number> {
    const counts: Record<TargetState, number> = {
      pending: 0,
      dispatched: 0,
      succeeded: 0,
      failed: 0,
      timed_out: 0,
      rejected: 0,
      expired: 0,
      aborted: 0,
    };
    for (const t of this.targets) counts[t.state] += 1;
    return counts;
  }

  /**
   * The run's final status once nothing is open: aborted when it was stopped, expired when no target was
   * ever reached, succeeded when every target succeeded, failed otherwise (a target aborted because its
   * envoy was revoked meanwhile counts against it too).
   */
  outcome(): RunStatus {
    if (this.stopReason !== undefined) return 'aborted';
    if (this.targets.length > 0 && this.targets.every((t) => t.state === 'expired')) return 'expired';
    return this.targets.every((t) => t.state === 'succeeded') ? 'succeeded' : 'failed';
  }
}
