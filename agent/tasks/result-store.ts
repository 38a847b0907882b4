/**
 * Task results on disk, one file per task_id, so that at-least-once delivery never runs a task twice:
 * a dispatch whose task_id is in the store is answered from it. A record is written "running" before the
 * task starts; when the agent restarts and finds one still running, the task was cut off by the restart:
 * it becomes FAILED (never run again, since its side effects are unknown). A finished record remembers
 * whether it went out on a stream; unsent ones go out when a stream next opens.
 *
 * Files are written atomically (temp file, fsync, rename; 0600). The store is bounded: records older than
 * maxAgeMs and the oldest beyond maxRecords are pruned.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ResourceResult } from '../engine/index.ts';
import { ensureDir, writeFileAtomic } from '../runtime/state-dir.ts';
import type { TaskOutcome, TaskStatusName } from './types.ts';

const recordFormat = 'vigo-task/1';
const fileSuffix = '.json';
const uuidText = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export interface TaskStoreOptions {
  readonly maxRecords?: number;
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

export const defaultTaskStoreLimits = { maxRecords: 1_000, maxAgeMs: 7 * 24 * 60 * 60 * 1000 } as const;

interface IndexEntry {
  state: 'running' | 'finished';
  sent: boolean;
  recordedAtMs: number;
}

interface StoredRecord {
  format: typeof recordFormat;
  task_id: string;
  state: 'running' | 'finished';
  sent: boolean;
  recorded_at_ms: number;
  started_at_ms: number;
  traceparent: string;
  result: StoredResult | null;
}

interface StoredResult {
  status: TaskStatusName;
  exit_code: number;
  stdout_b64: string;
  stderr_b64: string;
  truncated: boolean;
  started_at_ms: number;
  finished_at_ms: number;
  message: string;
  results: ResourceResult[];
}

const statuses: ReadonlySet<string> = new Set(['succeeded', 'failed', 'timed_out', 'rejected']);
const outcomes: ReadonlySet<string> = new Set([
  'none',
  'created',
  'updated',
  'deleted',
  'skipped',
  'blocked',
  'failed',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseResult(value: unknown): StoredResult | null | undefined {
  if (value === null) return null;
  if (!isRecord(value)) return undefined;
  const v = value;
  const ok =
    typeof v.status === 'string' &&
    statuses.has(v.status) &&
    Number.isSafeInteger(v.exit_code) &&
    typeof v.stdout_b64 === 'string' &&
    typeof v.stderr_b64 === 'string' &&
    typeof v.truncated === 'boolean' &&
    Number.isSafeInteger(v.started_at_ms) &&
    Number.isSafeInteger(v.finished_at_ms) &&
    typeof v.message === 'string' &&
    Array.isArray(v.results) &&
    v.results.every(
      (r: unknown) =>
        isRecord(r) &&
        typeof r.resourceId === 'string' &&
        typeof r.resourceType === 'string' &&
        typeof r.configcrate === 'string' &&
        typeof r.outcome === 'string' &&
        outcomes.has(r.outcome) &&
        typeof r.message === 'string' &&
        typeof r.durationMs === 'number',
    );
  return ok ? (v as unknown as StoredResult) : undefined;
}

function parseRecord(text: string): StoredRecord | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(doc) || doc.format !== recordFormat) return undefined;
  if (typeof doc.task_id !== 'string' || !uuidText.test(doc.task_id)) return undefined;
  if (doc.state !== 'running' && doc.state !== 'finished') return undefined;
  if (typeof doc.sent !== 'boolean' || !Number.isSafeInteger(doc.recorded_at_ms)) return undefined;
  if (!Number.isSafeInteger(doc.started_at_ms) || typeof doc.traceparent !== 'string') return undefined;
  const result = parseResult(doc.result);
  if (result === undefined || (doc.state === 'finished') !== (result !== null)) return undefined;
  return { ...(doc as unknown as StoredRecord), result };
}

function toOutcome(record: StoredRecord, result: StoredResult): TaskOutcome {
  return {
    taskId: record.task_id,
    status: result.status,
    exitCode: result.exit_code,
    stdout: Buffer.from(result.stdout_b64, 'base64'),
    stderr: Buffer.from(result.stderr_b64, 'base64'),
    truncated: result.truncated,
    startedAtMs: result.started_at_ms,
    finishedAtMs: result.finished_at_ms,
    message: result.message,
    results: result.results.map((r) => ({ ...r, outcome: r.outcome })),
    traceparent: record.traceparent,
  };
}

export class TaskResultStore {
  readonly #dir: string;
  readonly #maxRecords: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #index = new Map<string, IndexEntry>();

  /** Reads the directory; tasks a restart cut off become FAILED results waiting to be sent. */
  constructor(dir: string, options: TaskStoreOptions = {}) {
    this.#dir = dir;
    this.#maxRecords = options.maxRecords ?? defaultTaskStoreLimits.maxRecords;
    this.#maxAgeMs = options.maxAgeMs ?? defaultTaskStoreLimits.maxAgeMs;
    this.#now = options.now ?? Date.now;
    ensureDir(dir);
    for (const file of fs.readdirSync(dir)) {
      const full = path.join(dir, file);
      if (!file.endsWith(fileSuffix)) {
        // A temp file a crash left behind.
        if (file.includes('.tmp-')) fs.rmSync(full, { force: true });
        continue;
      }
      const record = this.#read(file.slice(0, -fileSuffix.length));
      if (record === undefined) {
        fs.rmSync(full, { force: true });
        continue;
      }
      if (record.state === 'running') {
        const finishedAtMs = this.#now();
        this.#write({
          ...record,
          state: 'finished',
          sent: false,
          recorded_at_ms: finishedAtMs,
          result: {
            status: 'failed',
            exit_code: -1,
            stdout_b64: '',
            stderr_b64: '',
            truncated: false,
            started_at_ms: record.started_at_ms,
            finished_at_ms: finishedAtMs,
            message: 'the agent restarted while the task ran; its outcome is unknown and it is not run again',
            results: [],
          },
        });
      } else
        this.#index.set(record.task_id, {
          state: 'finished',
          sent: record.sent,
          recordedAtMs: record.recorded_at_ms,
        });
    }
    this.#prune();
  }

  /** 'running', 'finished', or undefined for a task_id the store does not hold. */
  stateOf(taskId: string): 'running' | 'finished' | undefined {
    return this.#index.get(taskId)?.state;
  }

  /** The stored result of a finished task. */
  result(taskId: string): TaskOutcome | undefined {
    const record = this.#read(taskId);
    return record?.result ? toOutcome(record, record.result) : undefined;
  }

  /** Written before the task starts, durably. */
  markRunning(taskId: string, startedAtMs: number, traceparent: string): void {
    this.#write({
      format: recordFormat,
      task_id: taskId,
      state: 'running',
      sent: false,
      recorded_at_ms: this.#now(),
      started_at_ms: startedAtMs,
      traceparent,
      result: null,
    });
  }

  finish(outcome: TaskOutcome): void {
    this.#write({
      format: recordFormat,
      task_id: outcome.taskId,
      state: 'finished',
      sent: false,
      recorded_at_ms: this.#now(),
      started_at_ms: outcome.startedAtMs,
      traceparent: outcome.traceparent,
      result: {
        status: outcome.status,
        exit_code: outcome.exitCode,
        stdout_b64: outcome.stdout.toString('base64'),
        stderr_b64: outcome.stderr.toString('base64'),
        truncated: outcome.truncated,
        started_at_ms: outcome.startedAtMs,
        finished_at_ms: outcome.finishedAtMs,
        message: outcome.message,
        results: [...outcome.results],
      },
    });
    this.#prune();
  }

  markSent(taskId: string): void {
    const entry = this.#index.get(taskId);
    if (entry === undefined || entry.sent || entry.state !== 'finished') return;
    const record = this.#read(taskId);
    if (record === undefined) return;
    this.#write({ ...record, sent: true });
  }

  /** Task ids of finished results not yet sent on any stream, oldest first (read each with result()). */
  unsentIds(): string[] {
    return [...this.#index]
      .filter(([, e]) => e.state === 'finished' && !e.sent)
      .sort(([, a], [, b]) => a.recordedAtMs - b.recordedAtMs)
      .map(([id]) => id);
  }

  get size(): number {
    return this.#index.size;
  }

  #file(taskId: string): string {
    // The id names a file: only a UUID ever does, so no id can point outside the directory.
    if (!uuidText.test(taskId))
      throw new Error(`task id ${JSON.stringify(taskId.slice(0, 64))} is not a UUID`);
    return path.join(this.#dir, `${taskId}${fileSuffix}`);
  }

  #read(taskId: string): StoredRecord | undefined {
    try {
      const record = parseRecord(fs.readFileSync(this.#file(taskId), 'utf8'));
      return record?.task_id === taskId ? record : undefined;
    } catch {
      return undefined;
    }
  }

  #write(record: StoredRecord): void {
    writeFileAtomic(this.#file(record.task_id), JSON.stringify(record));
    this.#index.set(record.task_id, {
      state: record.state,
      sent: record.sent,
      recordedAtMs: record.recorded_at_ms,
    });
  }

  /** Drops finished records past their age, then the oldest beyond the count; running ones stay. */
  #prune(): void {
    const cutoff = this.#now() - this.#maxAgeMs;
    const finished = [...this.#index]
      .filter(([, e]) => e.state === 'finished')
      .sort(([, a], [, b]) => a.recordedAtMs - b.recordedAtMs);
    const excess = this.#index.size - this.#maxRecords;
    finished.forEach(([id, e], i) => {
      if (i < excess || e.recordedAtMs < cutoff) {
        fs.rmSync(this.#file(id), { force: true });
        this.#index.delete(id);
      }
    });
  }
}
