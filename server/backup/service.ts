/**
 * Backups of a running server: one at a time (a second is refused with `backup.in_progress`), each on its
 * own thread with its own database connection (backup-worker.ts), into a private work directory under
 * the data dir that is removed afterwards.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ErrorCode } from '../core/index.ts';
import { VigoError, ensurePrivateDir, startModuleWorker } from '../core/index.ts';
import type { CollectSources } from './collect.ts';
import type { BackupKey } from './encryption.ts';
import type { Manifest } from './manifest.ts';

export interface BackupJob {
  readonly sources: CollectSources;
  readonly workDir: string;
  readonly output: string;
  readonly key: BackupKey | undefined;
  readonly createdAtMs: number;
}

export type BackupJobReply =
  | { ok: true; manifest: Manifest; bytes: number; snapshotMs: number; ms: number }
  | { ok: false; message: string; code?: string };

export interface BackupResult {
  readonly file: string;
  readonly bytes: number;
  readonly manifest: Manifest;
  /** Until the database snapshot and the copies were made. */
  readonly snapshotMs: number;
  readonly ms: number;
}

export interface BackupSlot {
  /** Writes one backup to `output` (0600); the slot stays held until `release`. */
  create(output: string, key: BackupKey | undefined): Promise<BackupResult>;
  release(): void;
}

export interface BackupService {
  /** Takes the one backup slot, or refuses with `backup.in_progress`. */
  begin(): BackupSlot;
  /** A private directory on the data dir's file system for archives on their way to a client. */
  readonly scratchDir: string;
}

export interface BackupServiceOptions {
  readonly sources: CollectSources;
  readonly dataDir: string;
}

function runJob(job: BackupJob): Promise<BackupJobReply> {
  const worker = startModuleWorker(new URL('./backup-worker.ts', import.meta.url), { workerData: job });
  return new Promise((resolve) => {
    let reply: BackupJobReply | undefined;
    worker.once('message', (message: BackupJobReply) => (reply = message));
    worker.once('error', (err) => (reply ??= { ok: false, message: err.message }));
    worker.once('exit', (code) => {
      fs.rmSync(job.workDir, { recursive: true, force: true });
      resolve(reply ?? { ok: false, message: `the backup thread ended (exit ${code})` });
    });
  });
}

const backupCodes: ReadonlySet<string> = new Set(['backup.too_large', 'backup.invalid']);

export function createBackupService(options: BackupServiceOptions): BackupService {
  const scratchDir = path.join(options.dataDir, 'backup-work');
  let busy = false;
  // Left over by a server that stopped in the middle of a backup.
  fs.rmSync(scratchDir, { recursive: true, force: true });
  return {
    scratchDir,
    begin: () => {
      if (busy)
        throw new VigoError('backup.in_progress', 'a backup is already running; try again when it is done');
      busy = true;
      let released = false;
      return {
        release: () => {
          if (!released) busy = false;
          released = true;
        },
        create: async (output, key) => {
          ensurePrivateDir(scratchDir);
          const createdAtMs = Date.now();
          const reply = await runJob({
            sources: options.sources,
            workDir: path.join(scratchDir, `work-${randomUUID()}`),
            output,
            key,
            createdAtMs,
          });
          if (!reply.ok) {
            const code: ErrorCode =
              reply.code !== undefined && backupCodes.has(reply.code)
                ? (reply.code as ErrorCode)
                : 'backup.failed';
            throw new VigoError(code, `the backup failed: ${reply.message}`);
          }
          return {
            file: output,
            bytes: reply.bytes,
            manifest: reply.manifest,
            snapshotMs: reply.snapshotMs,
            ms: reply.ms,
          };
        },
      };
    },
  };
}
