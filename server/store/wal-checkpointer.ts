/**
 * Moves SQLite's WAL checkpoints off the serving thread. By default the connection that commits is the one
 * that checkpoints, inside that commit, once the WAL passes 1,000 pages: 5–20 ms during which the event
 * loop answers nothing. With the checkpointer running, a worker thread with its own connection looks once a
 * second and checkpoints passively when as many frames wait in the WAL, and the writer's own automatic
 * checkpoint is only a safety net far above that (should the thread fall behind or die, the writer takes
 * over at once).
 */
import type { Logger } from '../core/index.ts';
import { startModuleWorker } from '../core/index.ts';
import type { Store } from './open-store.ts';

/** What the worker is started with. */
export interface CheckpointerData {
  readonly file: string;
  readonly intervalMs: number;
  readonly busyTimeoutMs: number;
  /** Checkpoint once this many frames are waiting to be copied. */
  readonly frames: number;
}

export type CheckpointerReport =
  | { kind: 'checkpointed'; frames: number; walFrames: number; caughtUp: boolean; ms: number }
  | { kind: 'failed'; message: string };

export interface CheckpointerStats {
  checkpoints: number;
  /** WAL frames copied into the database file. */
  frames: number;
  /** The longest checkpoint (it runs on its own thread: this is not a stall). */
  longestMs: number;
  failures: number;
  /** Whether the last checkpoint copied the whole WAL with no commit meanwhile (the next commit restarts it). */
  caughtUp: boolean;
}

export interface WalCheckpointer {
  readonly stats: Readonly<CheckpointerStats>;
  /** Stops the thread and closes its connection. */
  stop(): Promise<void>;
}

export interface WalCheckpointerOptions {
  readonly log: Logger;
  readonly busyTimeoutMs: number;
  /** How often the thread looks at the WAL (default 1 s). */
  readonly intervalMs?: number;
  /** Frames waiting in the WAL that start a checkpoint (default 1,000: SQLite's own threshold). */
  readonly frames?: number;
}

/** SQLite's default automatic checkpoint threshold, in pages. */
const defaultAutocheckpointPages = 1000;
/** The writer's own checkpoint while the thread runs: only if the WAL grows past ~64 MiB. */
const safetyNetPages = 16_384;

export function startWalCheckpointer(store: Store, options: WalCheckpointerOptions): WalCheckpointer {
  const stats: CheckpointerStats = { checkpoints: 0, frames: 0, longestMs: 0, failures: 0, caughtUp: true };
  const data: CheckpointerData = {
    file: store.db.name,
    intervalMs: options.intervalMs ?? 1000,
    busyTimeoutMs: options.busyTimeoutMs,
    frames: options.frames ?? defaultAutocheckpointPages,
  };
  const worker = startModuleWorker(new URL('./wal-checkpointer-worker.ts', import.meta.url), {
    workerData: data,
  });
  worker.unref();
  store.db.pragma(`wal_autocheckpoint = ${safetyNetPages}`);
  let stopping = false;
  const writerTakesOver = (why: string): void => {
    if (store.db.open) store.db.pragma(`wal_autocheckpoint = ${defaultAutocheckpointPages}`);
    if (!stopping) options.log.error('WAL checkpointer stopped; the writer checkpoints again', { why });
  };
  worker.on('message', (report: CheckpointerReport) => {
    if (report.kind === 'failed') {
      stats.failures += 1;
      options.log.warn('WAL checkpoint failed; retried at the next write', { error: report.message });
      return;
    }
    stats.checkpoints += 1;
    stats.frames += report.frames;
    stats.longestMs = Math.max(stats.longestMs, report.ms);
    stats.caughtUp = report.caughtUp;
  });
  worker.on('error', (err: Error) => writerTakesOver(err.message));
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', (code) => {
      writerTakesOver(`exit code ${code}`);
      resolve();
    }),
  );
  return {
    stats,
    stop: () => {
      stopping = true;
      // Someone waits for it to end: keep the process alive until it has.
      worker.ref();
      worker.postMessage('stop');
      return exited;
    },
  };
}
