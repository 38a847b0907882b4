/**
 * Runs stack validation and compilation in a worker thread with its own heap limit and a wall-clock
 * budget, so a hostile stack can exhaust, stall or crash only that thread: the event loop that answers
 * /healthz and check-ins never runs it. One validation at a time (the machine has few cores and check-in
 * needs one), a small bounded queue behind it, and a stable refusal for each way it can end badly.
 * A dead worker is replaced by the next job; an idle one is stopped to give its heap back.
 */
import type { Worker } from 'node:worker_threads';
import { VigoError, errorCatalog, startModuleWorker } from '../core/index.ts';
import type { ErrorCode, Logger } from '../core/index.ts';
import type { EncodedSnapshot } from '../policy/index.ts';
import type {
  DiffOutcome,
  WorkerOutcome,
  LoadOutcome,
  OutcomeOf,
  ValidateJob,
  ValidateOutcome,
  ValidatorJob,
  WorkerReply,
} from './validator-protocol.ts';

export interface ValidatorLimits {
  /** Wall-clock budget of one validation (publish.validate_timeout). */
  timeoutMs: number;
  /** Old-generation heap of the worker (publish.validate_max_heap_mb); applies to the next worker started. */
  maxHeapMb: number;
  /** Validations that may wait behind the running one (publish.validate_queue). */
  maxQueued: number;
}

export interface ValidatorPoolOptions {
  log: Logger;
  limits: () => ValidatorLimits;
  /** An idle worker is stopped after this long (10 minutes): a publish soon after another finds it warm. */
  idleMs?: number;
  /** The worker body; validator-worker.ts unless a test says otherwise. */
  workerUrl?: URL;
}

export type ValidatorResult = ValidateOutcome;

export interface ValidatorPool {
  run(job: Omit<ValidateJob, 'kind'>): Promise<ValidatorResult>;
  /** A snapshot stored in `dbFile`, verified and encoded (nothing for the empty configuration). */
  load(hash: string, dbFile: string): Promise<LoadOutcome>;
  /** What changed between two snapshots stored in `dbFile`. */
  diff(
    beforeHash: string | undefined,
    afterHash: string,
    dbFile: string,
    hostnames?: readonly string[],
  ): Promise<DiffOutcome>;
  /** Throws publish.validator_busy now if `run` would: checked before an upload is written. */
  assertAccepting(): void;
  /** Refuses queued and running validations and stops the worker (server drain). */
  close(): Promise<void>;
}

interface Pending {
  id: number;
  job: ValidatorJob;
  resolve: (outcome: WorkerOutcome) => void;
  reject: (err: VigoError) => void;
}

interface Running {
  pending: Pending;
  worker: Worker;
  limits: ValidatorLimits;
  startedMs: number;
  timer: NodeJS.Timeout;
}

// Spelled from two levels up, the repository root, so the same URL holds from a bundle in dist/bin
// (vigocli's offline validate), which then runs the worker from the sources.
const defaultWorkerUrl = new URL('../../server/publish/validator-worker.ts', import.meta.url);

/**
 * An upload body that owns its memory moves to the worker instead of being copied (the request is done
 * with it); a body that shares a pooled buffer is copied.
 */
function transferable(job: ValidatorJob): ArrayBuffer[] {
  if (job.kind !== 'validate' || job.tree.kind !== 'upload') return [];
  const body = job.tree.body;
  const owns = body.byteOffset === 0 && body.buffer.byteLength === body.byteLength;
  return owns && body.buffer instanceof ArrayBuffer ? [body.buffer] : [];
}

/** A transferred body arrives as a plain Uint8Array over the moved memory: view it as a Buffer again. */
function withBuffers(outcome: WorkerOutcome): WorkerOutcome {
  let carrier: { encoded?: EncodedSnapshot } | undefined;
  if ('encoded' in outcome) carrier = outcome;
  else if ('snapshot' in outcome) carrier = outcome.snapshot;
  const encoded = carrier?.encoded;
  if (carrier !== undefined && encoded !== undefined && !Buffer.isBuffer(encoded.body)) {
    const body: Uint8Array = encoded.body;
    carrier.encoded = { ...encoded, body: Buffer.from(body.buffer, body.byteOffset, body.byteLength) };
  }
  return outcome;
}

function knownCode(code: string): ErrorCode {
  return Object.hasOwn(errorCatalog, code) ? (code as ErrorCode) : 'internal';
}

export function createValidatorPool(options: ValidatorPoolOptions): ValidatorPool {
  return new Pool(options);
}

class Pool implements ValidatorPool {
  private worker: Worker | undefined;
  private running: Running | undefined;
  private readonly queue: Pending[] = [];
  private closed = false;
  private nextId = 1;
  private lastDurationMs = 1000;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ValidatorPoolOptions) {}

  assertAccepting(): void {
    if (this.closed) throw stopping();
    if (!this.running || this.queue.length < this.options.limits().maxQueued) return;
    const seconds = Math.max(1, Math.ceil((this.lastDurationMs * (this.queue.length + 1)) / 1000));
    throw new VigoError(
      'publish.validator_busy',
      `the validator is busy (${this.queue.length + 1} stacks ahead of this one); nothing was validated, try again in ${seconds} s`,
      { retryAfterSeconds: seconds },
    );
  }

  run(job: Omit<ValidateJob, 'kind'>): Promise<ValidatorResult> {
    return this.submit({ kind: 'validate', ...job });
  }

  load(hash: string, dbFile: string): Promise<LoadOutcome> {
    return this.submit({ kind: 'load', hash, dbFile });
  }

  diff(
    beforeHash: string | undefined,
    afterHash: string,
    dbFile: string,
    hostnames?: readonly string[],
  ): Promise<DiffOutcome> {
    return this.submit({ kind: 'diff', beforeHash, afterHash, dbFile, ...(hostnames ? { hostnames } : {}) });
  }

  private submit<J extends ValidatorJob>(job: J): Promise<OutcomeOf[J['kind']]> {
    try {
      this.assertAccepting();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        id: this.nextId++,
        job,
        resolve: (outcome) => resolve(outcome as OutcomeOf[J['kind']]),
        reject,
      };
      this.queue.push(pending);
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    for (const p of this.queue.splice(0)) p.reject(stopping());
    if (this.running) this.fail(this.running, stopping());
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private pump(): void {
    if (this.running || this.closed) return;
    const pending = this.queue.shift();
    if (!pending) return;
    clearTimeout(this.idleTimer);
    const limits = this.options.limits();
    const worker = this.worker ?? this.spawn(limits);
    const timer = setTimeout(() => this.expire(), limits.timeoutMs);
    timer.unref();
    this.running = { pending, worker, limits, startedMs: performance.now(), timer };
    // Someone awaits this validation (maybe the start-up publish, before any listener exists).
    worker.ref();
    worker.postMessage({ id: pending.id, job: pending.job }, transferable(pending.job));
  }

  private spawn(limits: ValidatorLimits): Worker {
    const worker = startModuleWorker(this.options.workerUrl ?? defaultWorkerUrl, {
      resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb },
      stdout: false,
      stderr: false,
    });
    worker.on('message', (reply: WorkerReply) => this.onReply(worker, reply));
    worker.on('error', (err: Error & { code?: string }) => this.onDeath(worker, err));
    worker.on('exit', (code) => this.onDeath(worker, undefined, code));
    this.worker = worker;
    return worker;
  }

  private onReply(worker: Worker, reply: WorkerReply): void {
    const running = this.running;
    if (!running || running.worker !== worker || running.pending.id !== reply.id) return;
    this.settle(running);
    if (reply.kind === 'done') {
      running.pending.resolve(withBuffers(reply.outcome));
    } else if (reply.kind === 'refused') {
      running.pending.reject(new VigoError(knownCode(reply.code), reply.message, reply.details));
    } else {
      // A bug, not a property of the stack: the worker's state is suspect, so it is replaced.
      this.options.log.error('stack validation failed unexpectedly', {
        message: reply.message,
        stack: reply.stack,
      });
      running.pending.reject(crashed(reply.message));
      this.retire(worker);
    }
    this.pump();
  }

  /** The worker ended: out of memory, an uncaught error, or an exit nobody asked for. */
  private onDeath(worker: Worker, err: (Error & { code?: string }) | undefined, exitCode?: number): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const running = this.running;
    if (running && running.worker === worker) {
      const outOfMemory = err?.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.options.log.warn('stack validator stopped', {
        reason: outOfMemory ? 'out of memory' : (err?.message ?? `exited with code ${exitCode ?? '?'}`),
        heapMb: running.limits.maxHeapMb,
      });
      this.fail(
        running,
        outOfMemory
          ? new VigoError(
              'publish.validator_out_of_memory',
              `validating these stacks needed more than the validator's ${running.limits.maxHeapMb} MiB of memory (publish.validate_max_heap_mb); it was stopped and nothing was published`,
              { heapMb: running.limits.maxHeapMb },
            )
          : crashed(err?.message ?? `the validator exited with code ${exitCode ?? '?'}`),
      );
    }
    this.pump();
  }

  private expire(): void {
    const running = this.running;
    if (!running) return;
    this.options.log.warn('stack validation over its time budget; stopping it', {
      timeoutMs: running.limits.timeoutMs,
    });
    this.fail(
      running,
      new VigoError(
        'publish.validator_timeout',
        `validating these stacks took longer than ${running.limits.timeoutMs} ms (publish.validate_timeout); it was stopped and nothing was published`,
        { timeoutMs: running.limits.timeoutMs },
      ),
    );
    this.retire(running.worker);
    this.pump();
  }

  private fail(running: Running, err: VigoError): void {
    this.settle(running);
    running.pending.reject(err);
  }

  private settle(running: Running): void {
    clearTimeout(running.timer);
    // An idle worker must not keep the process from exiting.
    running.worker.unref();
    if (this.running === running) this.running = undefined;
    this.lastDurationMs = performance.now() - running.startedMs;
    if (this.queue.length === 0 && !this.closed) this.scheduleIdleStop();
  }

  private retire(worker: Worker): void {
    if (this.worker === worker) this.worker = undefined;
    void worker.terminate();
  }

  private scheduleIdleStop(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (!this.running && this.worker) this.retire(this.worker);
    }, this.options.idleMs ?? 600_000);
    this.idleTimer.unref();
  }
}

function stopping(): VigoError {
  return new VigoError('unavailable', 'the server is shutting down; the stacks were not validated');
}

function crashed(reason: string): VigoError {
  return new VigoError(
    'publish.validator_crashed',
    `the stack validator stopped unexpectedly (${reason}); nothing was published`,
  );
}
