/**
 * The pruner's thread: its own connection to the database, one pass per request from the serving thread,
 * yielding to its event loop between transactions so a stop request is heard.
 */
import Database from 'better-sqlite3';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
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
      const report = await pruneHistory(db, request.cutoffs, {
        shouldStop: () => stopping,
        between: () => yieldToLoop(),
      });
      reply = { kind: 'pruned', id: request.id, report };
    } catch (err) {
      reply = { kind: 'failed', id: request.id, message: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply);
  });
});
