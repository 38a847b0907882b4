/**
 * The body of the validator worker: validates and compiles a stacks tree and answers with the
 * diagnostics and (for a publish) the serialized snapshot. It runs in its
 * own V8 heap with its own limits, so a stack that exhausts memory or time ends this thread, never the
 * server (validator-pool.ts).
 */
import { parentPort } from 'node:worker_threads';
import { isVigoError } from '../core/index.ts';
import { serializeSnapshot, validateStacks } from '../policy/index.ts';
import type { ValidateJob, ValidatedSnapshot, WorkerReply, WorkerRequest } from './validator-protocol.ts';

async function run(job: ValidateJob): Promise<Omit<WorkerReply & { kind: 'done' }, 'id'>> {
  const known = new Set(job.options.knownSecrets);
  const result = await validateStacks(job.dir, {
    protectedPaths: job.options.protectedPaths,
    protectedServices: job.options.protectedServices,
    ...(job.options.dataDir === undefined ? {} : { dataDir: job.options.dataDir }),
    secretExists: (secretPath) => known.has(secretPath),
    now: () => job.nowMs,
    forTransfer: true,
  });
  const snapshot = result.snapshot;
  if (snapshot === undefined) return { kind: 'done', diagnostics: result.diagnostics };
  const out: ValidatedSnapshot = { hash: snapshot.hash, entries: snapshot.entries.length };
  if (job.wantSnapshot && snapshot.hash !== job.unlessHash) out.body = serializeSnapshot(snapshot);
  return { kind: 'done', diagnostics: result.diagnostics, snapshot: out };
}

async function answer(request: WorkerRequest): Promise<WorkerReply> {
  try {
    return { id: request.id, ...(await run(request.job)) };
  } catch (err) {
    if (isVigoError(err))
      return {
        id: request.id,
        kind: 'refused',
        code: err.code,
        message: err.message,
        details: { ...err.details },
      };
    const e = err instanceof Error ? err : new Error(String(err));
    return { id: request.id, kind: 'failed', message: e.message, stack: e.stack ?? '' };
  }
}

const port = parentPort;
if (port === null) throw new Error('validator-worker.ts runs only as a worker thread');
port.on('message', (request: WorkerRequest) => {
  void answer(request).then((reply) => port.postMessage(reply));
});
