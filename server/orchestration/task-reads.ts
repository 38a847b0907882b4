/**
 * The read side of task runs: pages of runs newest first and one run with a page of its targets. A run
 * still going answers its counts from memory; a finished one from its rows.
 */
import { VigoError } from '../core/index.ts';
import type { ActiveRun } from './active-run.ts';
import { runDetail, runSummary } from './task-views.ts';
import type { RunDetailView, RunSummaryView } from './task-views.ts';
import type { TargetRow, TaskStatements, TaskWriter } from './tasks-store.ts';

export const taskPageLimits = { defaultTargets: 1000, maxTargets: 1000, maxRunning: 1000 } as const;

export interface TaskReads {
  list(options: { limit: number; cursor?: string }): { items: RunSummaryView[]; nextCursor: string | null };
  get(id: string, page?: { limit: number; offset: number }): RunDetailView;
  countsOf(id: string): Partial<Record<TargetRow['state'], number>>;
}

export function createTaskReads(deps: {
  sql: TaskStatements;
  writer: TaskWriter;
  runs: ReadonlyMap<string, ActiveRun>;
}): TaskReads {
  const { sql, writer, runs } = deps;
  const countsOf = (id: string): Partial<Record<TargetRow['state'], number>> => {
    const live = runs.get(id);
    if (live !== undefined) return live.counts();
    return Object.fromEntries(sql.countsOf.all(id).map((c) => [c.state, c.n]));
  };
  return {
    countsOf,
    list({ limit, cursor }) {
      writer.flush();
      const after = cursor === undefined ? { at: Number.MAX_SAFE_INTEGER, id: '' } : parseCursor(cursor);
      const rows = sql.runsBefore.all({ ...after, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => runSummary(row, countsOf(row.id))),
        nextCursor:
          rows.length > limit && last !== undefined
            ? Buffer.from(`${last.created_at}:${last.id}`).toString('base64url')
            : null,
      };
    },
    get(id, page = { limit: taskPageLimits.defaultTargets, offset: 0 }) {
      writer.flush();
      const row = sql.run.get(id);
      if (row === undefined) throw new VigoError('task.not_found', `no task run has the id ${id}`);
      const items = sql.targetsPage.all(id, page.limit + 1, page.offset);
      const more = items.length > page.limit;
      return runDetail(row, countsOf(id), items.slice(0, page.limit), more ? page.offset + page.limit : null);
    },
  };
}

function parseCursor(cursor: string): { at: number; id: string } {
  const match = /^(\d{1,16}):([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (match === null)
    throw new VigoError('request.invalid', 'cursor: not a cursor from a previous page', { field: 'cursor' });
  return { at: Number(match[1]), id: match[2] ?? '' };
}
