/**
 * The background pruner (database.retention.*): a worker thread with its own connection deletes history
 * past its retention once per database.prune_interval (and shortly after start), in transactions of about
 * 10 ms, so the serving thread never runs a delete and its writer waits at most one such transaction.
 */
import type { Logger } from '../core/index.ts';
import { startModuleWorker } from '../core/index.ts';
import type { Store } from './open-store.ts';
import { cutoffsFor, pruneFamilies } from './prune.ts';
import type { PruneCutoffs, PruneFamily, PruneReport } from './prune.ts';

export interface PrunerData {
  readonly file: string;
  readonly busyTimeoutMs: number;
}

export type PrunerRequest = { kind: 'prune'; id: number; cutoffs: PruneCutoffs } | { kind: 'stop' };
export type PrunerReply =
  { kind: 'pruned'; id: number; report: PruneReport } | { kind: 'failed'; id: number; message: string };

export type RetentionMs = Record<PruneFamily, number>;

export interface PrunerOptions {
  readonly log: Logger;
  readonly busyTimeoutMs: number;
  /** The retention now in effect (read at each pass: it is reloadable). */
  readonly retention: () => RetentionMs;
  /** Between scheduled passes; read after each pass. */
  readonly intervalMs: () => number;
  /** The first scheduled pass, after start (default 60 s: start-up work goes first). */
  readonly firstPassAfterMs?: number;
  readonly now?: () => number;
  /** Told of every pass that completed. */
  readonly onPass?: (report: PruneReport) => void;
}

export interface Pruner {
  /** Prunes now with the configured retention, or with `cutoffs` when given; passes never overlap. */
  prune(cutoffs?: PruneCutoffs): Promise<PruneReport>;
  /** Stops the schedule, ends a pass in progress at its next transaction, and ends the thread. */
  stop(): Promise<void>;
}

export function startPruner(store: Store, options: PrunerOptions): Pruner {
  const { log } = options;
  const now = options.now ?? Date.now;
  const data: PrunerData = { file: store.db.name, busyTimeoutMs: options.busyTimeoutMs };
  const worker = startModuleWorker(new URL('./pruner-worker.ts', import.meta.url), { workerData: data });
  worker.unref();
  const waiting = new Map<number, { resolve: (r: PruneReport) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const failAll = (why: string): void => {
    for (const { reject } of waiting.values()) reject(new Error(why));
    waiting.clear();
  };
  worker.on('message', (reply: PrunerReply) => {
    const pending = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (reply.kind === 'failed') pending?.reject(new Error(reply.message));
    else pending?.resolve(reply.report);
  });
  worker.on('error', (err: Error) => {
    log.error('pruner thread failed; history is not pruned until restart', { error: err.message });
    failAll(err.message);
  });
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      failAll('the pruner thread ended');
      resolve();
    }),
  );

  const prune = (cutoffs?: PruneCutoffs): Promise<PruneReport> => {
    if (stopped) return Promise.reject(new Error('the pruner is stopped'));
    const id = nextId++;
    const request: PrunerRequest = {
      kind: 'prune',
      id,
      cutoffs: cutoffs ?? cutoffsFor(options.retention(), now()),
    };
    return new Promise<PruneReport>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      worker.postMessage(request);
    }).then((report) => {
      options.onPass?.(report);
      return report;
    });
  };

  const schedule = (afterMs: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      prune().then(
        (report) => {
          const deleted = pruneFamilies.reduce((sum, family) => sum + report.deleted[family], 0);
          log.info('history pruned', {
            ...report.deleted,
            deleted,
            transactions: report.transactions,
            longestTxnMs: Math.round(report.longestTxnMs * 10) / 10,
            ms: Math.round(report.ms),
          });
          schedule(options.intervalMs());
        },
        (err: unknown) => {
          if (stopped) return;
          log.warn('history pruning failed; tried again at the next interval', {
            error: err instanceof Error ? err.message : String(err),
          });
          schedule(options.intervalMs());
        },
      );
    }, afterMs);
    timer.unref();
  };
  schedule(options.firstPassAfterMs ?? 60_000);

  return {
    prune,
    stop: () => {
      if (!stopped) {
        stopped = true;
        clearTimeout(timer);
        worker.ref();
        worker.postMessage({ kind: 'stop' } satisfies PrunerRequest);
      }
      return exited;
    },
  };
}
