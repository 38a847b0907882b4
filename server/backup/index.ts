/**
 * Backups and restore: a consistent archive of a running server (database snapshot, tls/, secrets/,
 * server.yaml, the active stacks, audit checkpoints) with a manifest of SHA-256 sums, optionally age
 * encrypted; scheduled backups; and the verified restore `vigosrv restore` runs.
 */
export { createBackupService } from './service.ts';
export type { BackupResult, BackupService, BackupSlot } from './service.ts';
export type { CollectSources } from './collect.ts';
export { startBackupSchedule, pruneBackups } from './schedule.ts';
export type { BackupSchedule, ScheduleSettings } from './schedule.ts';
export { restoreBackup, restoreLimits } from './restore.ts';
export { runRestoreCommand } from './restore-command.ts';
export type { RestoreOptions, RestoreResult } from './restore.ts';
export {
  decryptStream,
  encryptStream,
  isAgeRecipient,
  parseIdentityFile,
  parsePassphraseFile,
} from './encryption.ts';
export type { BackupKey, RestoreKey } from './encryption.ts';
export { backupFileName } from './write-archive.ts';
export type { Manifest, ManifestMember } from './manifest.ts';
export { manifestName, memberPaths } from './manifest.ts';
