/**
 * task_runs and task_targets: the rows, the statements that change them and the reads the API pages
 * through. Writes that arrive many at a time (deliveries, results, state changes) are queued by the
 * TaskWriter and committed together, a few milliseconds apart, in one transaction each.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from '../core/index.ts';
import type { Db, Store } from '../store/index.ts';

export const runStatuses = ['running', 'succeeded', 'failed', 'aborted', 'interrupted', 'expired'] as const;
export type RunStatus = (typeof runStatuses)[number];
export const targetStates = [
  'pending',
  'dispatched',
  'succeeded',
  'failed',
  'timed_out',
  'rejected',
  'expired',
  'aborted',
] as const;
export type TargetState = (typeof targetStates)[number];
export type ReportedStatus = 'succeeded' | 'failed' | 'timed_out' | 'rejected';

export interface RunRow {
  id: string;
  kind: 'command' | 'named';
  command: string | null;
  task_name: string | null;
  params: string;
  timeout_seconds: number;
  nice: number;
  actor: string;
  created_at: number;
  expires_at: number;
  rollout: string;
  batches: number;
  current_batch: number;
  status: RunStatus;
  message: string;
  finished_at: number | null;
}

export interface TargetRow {
  task_id: string;
  task_run_id: string;
  envoy_id: string;
  hostname: string;
  batch: number;
  state: TargetState;
  sent_at: number | null;
  deadline_at: number | null;
  reported: ReportedStatus | null;
  exit_code: number | null;
  stdout: Buffer | null;
  stderr: Buffer | null;
  truncated: number;
  started_at: number | null;
  finished_at: number | null;
  message: string;
}

export interface ResultRecord {
  taskId: string;
  envoyId: string;
  status: ReportedStatus;
  exitCode: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  truncated: boolean;
  startedAtMs: number;
  finishedAtMs: number;
  message: string;
}

type Stmt<P extends unknown[], R = unknown> = BetterSqlite3.Statement<P, R>;

export interface TaskStatements {
  insertRun: Stmt<[RunRow]>;
  insertTarget: Stmt<
    [
      Omit<
        TargetRow,
        | 'reported'
        | 'exit_code'
        | 'stdout'
        | 'stderr'
        | 'truncated'
        | 'started_at'
        | 'finished_at'
        | 'message'
      >,
    ]
  >;
  setState: Stmt<[TargetState, string, string]>;
  setSent: Stmt<[number, number, string]>;
  /** The first result of a task_id from its own envoy; a delivered target takes the agent's verdict. */
  recordResult: Stmt<[Record<string, unknown>]>;
  setBatch: Stmt<[number, string]>;
  finishRun: Stmt<[RunStatus, string, number, string]>;
  setMessage: Stmt<[string, string]>;
  runningRuns: Stmt<[], RunRow>;
  targetsOf: Stmt<[string], TargetRow>;
  targetsPage: Stmt<[string, number, number], TargetRow>;
  run: Stmt<[string], RunRow>;
  /** Newest first, after the cursor (created_at, id) of the previous page. */
  runsBefore: Stmt<[{ at: number; id: string; limit: number }], RunRow>;
  countsOf: Stmt<[string], { state: TargetState; n: number }>;
}

const statementsByDb = new WeakMap<Db, TaskStatements>();

export function taskStatements(db: Db): TaskStatements {
  let found = statementsByDb.get(db);
  if (found !== undefined) return found;
  found = {
    insertRun: db.prepare(
      `INSERT INTO task_runs (id, kind, command, task_name, params, timeout_seconds, nice, actor, created_at,
         expires_at, rollout, batches, current_batch, status, message, finished_at)
       VALUES (@id, @kind, @command, @task_name, @params, @timeout_seconds, @nice, @actor, @created_at,
         @expires_at, @rollout, @batches, @current_batch, @status, @message, @finished_at)`,
    ),
    insertTarget: db.prepare(
      `INSERT INTO task_targets (task_id, task_run_id, envoy_id, hostname, batch, state, sent_at, deadline_at)
       VALUES (@task_id, @task_run_id, @envoy_id, @hostname, @batch, @state, @sent_at, @deadline_at)`,
    ),
    setState: db.prepare('UPDATE task_targets SET state = ?, message = ? WHERE task_id = ?'),
    setSent: db.prepare('UPDATE task_targets SET sent_at = ?, deadline_at = ? WHERE task_id = ?'),
    recordResult: db.prepare(
      `UPDATE task_targets SET
         state = CASE WHEN state = 'dispatched' THEN @status ELSE state END,
         reported = @status, exit_code = @exitCode, stdout = @stdout, stderr = @stderr,
         truncated = @truncated, started_at = @startedAt, finished_at = @finishedAt,
         message = CASE WHEN state = 'dispatched' THEN @message
                        ELSE message || ' (the agent reported ' || @status || ' later)' END
       WHERE task_id = @taskId AND envoy_id = @envoyId AND reported IS NULL AND sent_at IS NOT NULL`,
    ),
    setBatch: db.prepare('UPDATE task_runs SET current_batch = ? WHERE id = ?'),
    finishRun: db.prepare(
      "UPDATE task_runs SET status = ?, message = ?, finished_at = ? WHERE id = ? AND status = 'running'",
    ),
    setMessage: db.prepare('UPDATE task_runs SET message = ? WHERE id = ?'),
    runningRuns: db.prepare("SELECT * FROM task_runs WHERE status = 'running' ORDER BY created_at"),
    targetsOf: db.prepare(
      'SELECT * FROM task_targets WHERE task_run_id = ? ORDER BY batch, hostname, envoy_id',
    ),
    targetsPage: db.prepare(
      'SELECT * FROM task_targets WHERE task_run_id = ? ORDER BY batch, hostname, envoy_id LIMIT ? OFFSET ?',
    ),
    run: db.prepare('SELECT * FROM task_runs WHERE id = ?'),
    runsBefore: db.prepare(
      `SELECT * FROM task_runs WHERE created_at < @at OR (created_at = @at AND id < @id)
       ORDER BY created_at DESC, id DESC LIMIT @limit`,
    ),
    countsOf: db.prepare(
      'SELECT state, count(*) AS n FROM task_targets WHERE task_run_id = ? GROUP BY state',
    ),
  };
  statementsByDb.set(db, found);
  return found;
}

export function resultParams(result: ResultRecord): Record<string, unknown> {
  return {
    taskId: result.taskId,
    envoyId: result.envoyId,
    status: result.status,
    exitCode: result.exitCode,
    stdout: Buffer.from(result.stdout),
    stderr: Buffer.from(result.stderr),
    truncated: result.truncated ? 1 : 0,
    startedAt: result.startedAtMs === 0 ? null : result.startedAtMs,
    finishedAt: result.finishedAtMs === 0 ? null : result.finishedAtMs,
    message: result.message,
  };
}

/**
 * Queues writes and commits them together: the first write schedules a commit `maxDelayMs` later, and a
 * full queue commits at once. `after` callbacks run once their writes are durable (events, progress).
 */
export class TaskWriter {
  #ops: ((db: Db) => void)[] = [];
  #after: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly maxDelayMs = 5,
    private readonly maxQueued = 2_000,
  ) {}

  queue(op: (db: Db) => void, after?: () => void): void {
    this.#ops.push(op);
    if (after !== undefined) this.#after.push(after);
    if (this.#ops.length >= this.maxQueued) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.maxDelayMs);
  }

  /** Commits what is queued now. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#ops.length === 0) return;
    const ops = this.#ops;
    const after = this.#after;
    this.#ops = [];
    this.#after = [];
    try {
      this.store.tx((db) => {
        for (const op of ops) op(db);
      });
    } catch (err) {
      // What stays unwritten is recovered from the agents: a dispatch whose result was not stored is still
      // 'dispatched', so it is sent again when the envoy's stream reopens and answered from the agent's cache.
      this.log.error('task writes failed', { writes: ops.length, error: String(err) });
      return;
    }
    for (const fn of after) {
      try {
        fn();
      } catch (err) {
        this.log.error('task progress failed after a commit', { error: String(err) });
      }
    }
  }
}
