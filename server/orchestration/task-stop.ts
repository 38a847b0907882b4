/**
 * The stored side of stopping a task run: an operator's abort written with its audit entry in one
 * transaction, and a run that cannot be read back after a restart marked interrupted.
 */
import { appendAudit } from '../audit/index.ts';
import type { Db, Store } from '../store/index.ts';
import type { ActiveRun, LiveTarget } from './active-run.ts';
import { isOpen } from './active-run.ts';
import { taskStatements } from './tasks-store.ts';
import type { RunRow, TargetRow } from './tasks-store.ts';

/** Writes an abort and its audit entry: both are written, or neither (the caller holds the transaction). */
export function persistAbort(
  db: Db,
  abort: { run: ActiveRun; by: string; reason: string; why: string; stopping: readonly LiveTarget[] },
): void {
  const { run, by, reason, why, stopping } = abort;
  appendAudit(db, {
    actor: by,
    action: 'task.abort',
    target: `task_run:${run.id}`,
    details: {
      reason,
      ...(run.row.kind === 'command'
        ? { command: (run.row.command ?? '').slice(0, 4096) }
        : { taskName: run.row.task_name ?? '' }),
      targets: run.rollout.targets.map((t) => t.slice(0, 200)),
      startedBy: run.row.actor,
      stopped: stopping.length,
      inFlight: run.inFlight().length,
    },
  });
  if (run.stopReason !== undefined) return;
  const s = taskStatements(db);
  for (const target of stopping) s.setState.run('aborted', why, target.taskId);
  s.setMessage.run(why, run.id);
}

/** Marks a run that could not be read back after a restart interrupted, its open targets aborted. */
export function markInterrupted(
  store: Store,
  row: RunRow,
  rows: readonly TargetRow[],
  message: string,
  at: number,
): void {
  store.tx((db) => {
    const s = taskStatements(db);
    for (const t of rows)
      if (isOpen(t.state)) s.setState.run('aborted', 'the run was interrupted', t.task_id);
    s.finishRun.run('interrupted', message, at, row.id);
  });
}
