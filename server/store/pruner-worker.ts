/**
 * The pruner's thread: its own connection to the database, one pass or maintenance operation per request
 * from the serving thread, in order, yielding to its event loop between pruning transactions so a stop
 * request is heard.
 */
import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { runMaintenance } from './maintenance.ts';
import { pruneHistory } from './prune.ts';
import type { PrunerData, PrunerReply, PrunerRequest } from './pruner.ts';

const port = parentPort;
if (port === null) throw new Error('pruner-worker.ts runs only as a worker thread');
const { file, busyTimeoutMs } = workerData as PrunerData;
const db = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs });
// Cascades (run_results, task_targets, workflow_steps) are foreign-key actions: on for this connection too.
db.pragma('foreign_keys = ON');
let stopping = false;
let queue = Promise.resolve();

port.on('message', (request: PrunerRequest) => {
  if (request.kind === 'stop') {
    stopping = true;
    void queue.then(() => {
      db.close();
      port.close();
    });
    return;
  }
  queue = queue.then(async () => {
    let reply: PrunerReply;
    try {
      reply =
        request.kind === 'maintain'
          ? { kind: 'maintained', id: request.id, result: runMaintenance(db, request.op) }
          : {
              kind: 'pruned',
              id: request.id,
              report: await pruneHistory(db, request.cutoffs, {
                shouldStop: () => stopping,
                // As long again as the transaction took: the writer finds the lock free at least half
                // the time, and the WAL's checkpoints keep up with what the pruner writes.
                between: (txnMs) => sleep(Math.max(1, Math.ceil(txnMs))),
              }),
            };
    } catch (err) {
      reply = { kind: 'failed', id: request.id, message: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply);
  });
});
