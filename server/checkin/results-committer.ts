/**
 * Group commit for run reports: reports from many agents are queued, written together in one SQLite
 * transaction, and each caller is answered only once its batch is durable, so an acknowledged report
 * survives kill -9. The queue is bounded; when it is full the caller is told to retry later and keeps
 * its reports. A run id already stored is acknowledged again without writing twice.
 */
import type { ConvergenceTracker, RunSummary } from '../convergence/index.ts';
import type { Logger } from '../core/index.ts';
import { prepareRunWriter } from '../runs/index.ts';
import type { Db, Store } from '../store/index.ts';

export type RunOutcome = 'none' | 'created' | 'updated' | 'deleted' | 'skipped' | 'blocked' | 'failed';

export interface RunResultRecord {
  resourceId: string;
  resourceType: string;
  configcrate: string;
  outcome: RunOutcome;
  message: string;
  durationMs: number;
}

export interface RunRecord {
  runId: string;
  envoyId: string;
  policyVersion: number;
  startedAtMs: number;
  finishedAtMs: number;
  dryRun: boolean;
  traceId: string;
  results: RunResultRecord[];
}

export class QueueFullError extends Error {
  constructor(readonly retryAfterMs: number) {
    super(`the results queue is full; resend in ${retryAfterMs} ms`);
    this.name = 'QueueFullError';
  }
}

export interface ResultsCommitterOptions {
  store: Store;
  log: Logger;
  /** Most results (resource outcomes) waiting at once; beyond it callers get QueueFullError. */
  maxQueuedResults: number;
  /** Longest a report waits for companions before its batch is written. */
  maxDelayMs: number;
  /** Told about each run once its batch is durable (the event bus). */
  onCommitted?: (run: RunRecord) => void;
  /** Moves each envoy's convergence state with its newly stored runs, in the batch's transaction. */
  convergence?: ConvergenceTracker;
  /** Records the outcomes of resources that claim compliance controls, in the batch's transaction. */
  compliance?: ResultsParticipant;
  now?: () => number;
}

/** Something that writes with each newly stored run inside the batch and updates memory after it commits. */
export interface ResultsParticipant {
  stage(run: RunRecord): void;
  commit(): void;
  rollback(): void;
}

interface Pending {
  runs: RunRecord[];
  resultCount: number;
  resolve: (accepted: string[]) => void;
  reject: (err: unknown) => void;
}

export interface ResultsCommitter {
  submit(runs: RunRecord[]): Promise<string[]>;
  /** Writes whatever is queued now and waits for it (the drain calls this). */
  drain(): Promise<void>;
  queuedResults(): number;
}

/** What the convergence model needs of a run: its resources counted by outcome. */
export function summarizeRun(run: RunRecord): RunSummary {
  let unchanged = 0;
  let changed = 0;
  let failed = 0;
  let blocked = 0;
  let skipped = 0;
  for (const r of run.results) {
    if (r.outcome === 'none') unchanged += 1;
    else if (r.outcome === 'failed') failed += 1;
    else if (r.outcome === 'blocked') blocked += 1;
    else if (r.outcome === 'skipped') skipped += 1;
    else changed += 1;
  }
  return {
    runId: run.runId,
    startedAtMs: run.startedAtMs,
    dryRun: run.dryRun,
    unchanged,
    changed,
    failed,
    blocked,
    skipped,
  };
}

function prepareWrite(
  db: Db,
  now: () => number,
  convergence: ConvergenceTracker | undefined,
  compliance: ResultsParticipant | undefined,
): (runs: RunRecord[]) => void {
  const storeRun = prepareRunWriter(db);
  return (runs) => {
    const receivedAt = now();
    for (const run of runs) {
      if (!storeRun(run, receivedAt)) continue; // delivered before: already durable
      convergence?.stage(run.envoyId, summarizeRun(run));
      compliance?.stage(run);
    }
  };
}

export function createResultsCommitter(options: ResultsCommitterOptions): ResultsCommitter {
  const write = prepareWrite(
    options.store.db,
    options.now ?? Date.now,
    options.convergence,
    options.compliance,
  );
  let queue: Pending[] = [];
  let queuedResults = 0;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const commit = (): void => {
    timer = undefined;
    const batch = queue;
    queue = [];
    queuedResults = 0;
    if (batch.length === 0) return;
    try {
      options.store.tx(() => {
        for (const pending of batch) write(pending.runs);
      });
    } catch (err) {
      options.convergence?.rollback();
      options.compliance?.rollback();
      options.log.error('results batch could not be written; agents will resend', {
        err,
        reports: batch.length,
      });
      for (const pending of batch) pending.reject(err);
      return;
    }
    for (const pending of batch) pending.resolve(pending.runs.map((r) => r.runId));
    // Synchronous, so before any acknowledged caller resumes: a read after the ack sees the new states.
    options.convergence?.commit();
    options.compliance?.commit();
    if (options.onCommitted !== undefined)
      for (const pending of batch) for (const run of pending.runs) options.onCommitted(run);
  };

  const schedule = (): void => {
    timer ??= setTimeout(commit, options.maxDelayMs);
  };

  return {
    submit: (runs) => {
      const resultCount = runs.reduce((n, run) => n + Math.max(1, run.results.length), 0);
      if (queuedResults > 0 && queuedResults + resultCount > options.maxQueuedResults) {
        return Promise.reject(new QueueFullError(Math.max(options.maxDelayMs * 4, 250)));
      }
      return new Promise<string[]>((resolve, reject) => {
        queue.push({ runs, resultCount, resolve, reject });
        queuedResults += resultCount;
        if (queuedResults >= options.maxQueuedResults / 2) {
          if (timer) clearTimeout(timer);
          timer = undefined;
          inFlight = Promise.resolve().then(commit);
        } else schedule();
      });
    },
    drain: async () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await inFlight;
      commit();
    },
    queuedResults: () => queuedResults,
  };
}
