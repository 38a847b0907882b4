/**
 * Scheduled backups (backup.schedule in server.yaml): every interval a backup goes into backup.dir,
 * encrypted to backup.recipient when one is set, and the oldest beyond backup.keep are deleted. Runs on
 * the backup thread like any backup; a backup still running when the next is due makes that one wait for
 * the following interval.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../core/index.ts';
import { ensurePrivateDir } from '../core/index.ts';
import type { BackupResult, BackupService } from './service.ts';
import { backupFileName } from './write-archive.ts';

export interface ScheduleSettings {
  /** 0: off. */
  readonly intervalMs: number;
  readonly dir: string;
  readonly keep: number;
  /** An age X25519 recipient, or '' for an unencrypted archive. */
  readonly recipient: string;
}

export interface BackupScheduleOptions {
  readonly service: BackupService;
  readonly log: Logger;
  /** Read before each backup: the settings are reloadable. */
  readonly settings: () => ScheduleSettings;
  readonly onSuccess: (result: BackupResult, pruned: readonly string[]) => void;
  readonly onFailure: (message: string) => void;
}

export interface BackupSchedule {
  stop(): Promise<void>;
}

const backupFilePattern = /^vigo-backup-\d{8}T\d{9}Z\.tar\.gz(\.age)?$/;

/** Deletes the oldest backups in `dir` beyond the newest `keep`; returns the names deleted. */
export function pruneBackups(dir: string, keep: number): string[] {
  const names = fs
    .readdirSync(dir)
    .filter((name) => backupFilePattern.test(name))
    .sort();
  const doomed = names.slice(0, Math.max(0, names.length - keep));
  for (const name of doomed) fs.rmSync(path.join(dir, name), { force: true });
  return doomed;
}

export function startBackupSchedule(options: BackupScheduleOptions): BackupSchedule {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  const once = async (settings: ScheduleSettings): Promise<void> => {
    let slot;
    try {
      slot = options.service.begin();
    } catch (err) {
      options.log.warn('scheduled backup skipped: another backup is running', {
        error: (err as Error).message,
      });
      return;
    }
    try {
      ensurePrivateDir(settings.dir);
      const at = new Date();
      const output = path.join(settings.dir, backupFileName(at, settings.recipient !== ''));
      const result = await slot.create(
        output,
        settings.recipient === '' ? undefined : { kind: 'recipient', recipient: settings.recipient },
      );
      const pruned = pruneBackups(settings.dir, settings.keep);
      options.log.info('scheduled backup written', {
        file: result.file,
        bytes: result.bytes,
        ms: Math.round(result.ms),
        pruned: pruned.length,
      });
      options.onSuccess(result, pruned);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      options.log.error('scheduled backup failed; tried again at the next interval', { error: message });
      options.onFailure(message);
    } finally {
      slot.release();
    }
  };

  const schedule = (): void => {
    if (stopped) return;
    const settings = options.settings();
    // Off: look again in a minute, so a reload that switches it on takes effect without a restart.
    const afterMs = settings.intervalMs === 0 ? 60_000 : settings.intervalMs;
    timer = setTimeout(() => {
      const now = options.settings();
      running = (now.intervalMs === 0 ? Promise.resolve() : once(now)).then(schedule);
    }, afterMs);
    timer.unref();
  };
  schedule();

  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
