/**
 * The body of the validator worker: validates and compiles a stacks tree, and does the publish service's
 * other whole-snapshot jobs (impact, loading a stored snapshot, diffs). It runs in its own V8 heap with its
 * own limits, so a stack that exhausts memory or time ends this thread, never the server
 * (validator-pool.ts). Snapshots go back encoded, their body buffer transferred, not copied.
 */
import Database from 'better-sqlite3';
import { parentPort } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import { VigoError, isVigoError } from '../core/index.ts';
import {
  deserializeSnapshot,
  diffEntries,
  encodeSnapshot,
  indexTransfers,
  CompileCarry,
  compileSchemaValidators,
  validateStacks,
} from '../policy/index.ts';
import type { CompiledSnapshot } from '../policy/index.ts';
import { computeImpact } from './impact.ts';
import { parseUpload, withUploadDir } from './stack-source.ts';
import type {
  DiffJob,
  DiffOutcome,
  LoadJob,
  LoadOutcome,
  ValidateJob,
  ValidateOutcome,
  ValidatorJob,
  WorkerReply,
  WorkerRequest,
} from './validator-protocol.ts';

let db: Database.Database | undefined;

function database(file: string): Database.Database {
  if (db?.name !== file) {
    db?.close();
    db = new Database(file, { readonly: true, fileMustExist: true });
  }
  return db;
}

/** The last snapshots this worker compiled or loaded: the next publish diffs against one of them. */
const recent = new Map<string, CompiledSnapshot | undefined>();

/** Definitions and instances of the last validation, taken by the next where their inputs are unchanged. */
const carry = new CompileCarry();

function remember(hash: string, snapshot: CompiledSnapshot | undefined): void {
  recent.delete(hash);
  recent.set(hash, snapshot);
  while (recent.size > 2) recent.delete(recent.keys().next().value!);
}

/** A stored snapshot, verified; undefined for the empty configuration. */
function stored(hash: string, dbFile: string): CompiledSnapshot | undefined {
  if (recent.has(hash)) return recent.get(hash);
  const body = database(dbFile)
    .prepare('SELECT body FROM config_snapshots WHERE hash = ?')
    .pluck()
    .get(hash) as Buffer | undefined;
  if (body === undefined) throw new VigoError('publish.version_not_found', `snapshot ${hash} is not stored`);
  const text = body.toString('utf8');
  const parsed = JSON.parse(text) as { entries?: unknown; instances?: unknown };
  // The empty configuration a fresh server starts with is stored as {format, entries: []} without instances.
  const snapshot =
    Array.isArray(parsed.entries) && parsed.entries.length === 0 && parsed.instances === undefined
      ? undefined
      : deserializeSnapshot(text);
  remember(hash, snapshot);
  return snapshot;
}

/** Validates the job's tree; an upload is parsed and written to a private directory first. */
async function validate(job: ValidateJob): Promise<ValidateOutcome> {
  const tree = job.tree;
  if (tree.kind === 'dir') return validateDir(job, tree.dir);
  const { files, request } = parseUpload(tree.body, tree.form);
  const outcome = await withUploadDir(files, tree.scratchRoot, (dir) => validateDir(job, dir));
  // A compiled publish keeps its upload (config_sources): it goes back with the snapshot.
  const keep = job.wantSnapshot && outcome.snapshot !== undefined && request.dryRun !== true;
  return { ...outcome, request, ...(keep ? { upload: tree.body } : {}) };
}

async function validateDir(job: ValidateJob, dir: string): Promise<ValidateOutcome> {
  const timingsMs = { validate: 0, impact: 0, encode: 0 };
  let started = performance.now();
  const lap = (): number => {
    const now = performance.now();
    const ms = Math.round(now - started);
    started = now;
    return ms;
  };
  const known = new Set(job.options.knownSecrets);
  const result = await validateStacks(dir, {
    protectedPaths: job.options.protectedPaths,
    protectedServices: job.options.protectedServices,
    ...(job.options.dataDir === undefined ? {} : { dataDir: job.options.dataDir }),
    secretExists: (secretPath) => known.has(secretPath),
    now: () => job.nowMs,
    forTransfer: true,
    carry,
  });
  timingsMs.validate = lap();
  const carried = { crates: carry.crates.lastTaken, instances: carry.instances.lastTaken };
  const snapshot = result.snapshot;
  if (snapshot === undefined) return { diagnostics: result.diagnostics, timingsMs, carried };
  const out: ValidateOutcome = {
    diagnostics: result.diagnostics,
    snapshot: { hash: snapshot.hash, entries: snapshot.entryCount },
    timingsMs,
    carried,
  };
  if (job.impact !== undefined) {
    const { activeHash, dbFile } = job.impact;
    const active = activeHash === undefined ? undefined : stored(activeHash, dbFile);
    out.impact = computeImpact(job.impact.hostnames, active, snapshot);
    timingsMs.impact = lap();
  }
  if (job.wantSnapshot && snapshot.hash !== job.unlessHash) {
    out.snapshot!.encoded = encodeSnapshot(snapshot);
    timingsMs.encode = lap();
    // Published, it becomes the active snapshot the next publish is compared with.
    remember(snapshot.hash, snapshot);
  }
  return out;
}

function load(job: LoadJob): LoadOutcome {
  const snapshot = stored(job.hash, job.dbFile);
  return snapshot === undefined ? {} : { encoded: encodeSnapshot(snapshot) };
}

function diff(job: DiffJob): DiffOutcome {
  const after = stored(job.afterHash, job.dbFile);
  const before = job.beforeHash === undefined ? undefined : stored(job.beforeHash, job.dbFile);
  if (after === undefined)
    return {
      entries: 0,
      diff: (before?.entries ?? []).map((e) => ({
        entryId: e.id,
        status: 'removed',
        added: [],
        changed: [],
        removed: [],
      })),
    };
  return {
    entries: after.entryCount,
    diff: diffEntries(before, after).filter((d) => d.status !== 'unchanged'),
  };
}

async function perform(job: ValidatorJob): Promise<ValidateOutcome | LoadOutcome | DiffOutcome> {
  switch (job.kind) {
    case 'validate':
      return validate(job);
    case 'load':
      return load(job);
    case 'diff':
      return diff(job);
  }
}

function transfers(outcome: ValidateOutcome | LoadOutcome | DiffOutcome): TransferListItem[] {
  const encoded =
    'encoded' in outcome ? outcome.encoded : 'snapshot' in outcome ? outcome.snapshot?.encoded : undefined;
  const out: TransferListItem[] =
    encoded === undefined ? [] : [encoded.body.buffer as ArrayBuffer, ...indexTransfers(encoded.index)];
  const upload = 'upload' in outcome ? outcome.upload : undefined;
  // Moved back when it owns its memory (it arrived moved); a view of shared memory is copied.
  if (
    upload !== undefined &&
    upload.byteOffset === 0 &&
    upload.buffer instanceof ArrayBuffer &&
    upload.buffer.byteLength === upload.byteLength
  )
    out.push(upload.buffer);
  return out;
}

async function answer(request: WorkerRequest): Promise<[WorkerReply, TransferListItem[]]> {
  try {
    const outcome = await perform(request.job);
    return [{ id: request.id, kind: 'done', outcome }, transfers(outcome)];
  } catch (err) {
    if (isVigoError(err))
      return [
        {
          id: request.id,
          kind: 'refused',
          code: err.code,
          message: err.message,
          details: { ...err.details },
        },
        [],
      ];
    const e = err instanceof Error ? err : new Error(String(err));
    return [{ id: request.id, kind: 'failed', message: e.message, stack: e.stack ?? '' }, []];
  }
}

// The schemas compile as the worker starts, not during the first publish.
compileSchemaValidators();

const port = parentPort;
if (port === null) throw new Error('validator-worker.ts runs only as a worker thread');
port.on('message', (request: WorkerRequest) => {
  void answer(request).then(([reply, transferList]) => port.postMessage(reply, transferList));
});
