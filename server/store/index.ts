export { openStore } from './open-store.ts';
export type { Store, StoreOptions } from './open-store.ts';
export {
  defaultMigrationsDir,
  listAppliedMigrations,
  readMigrationFiles,
  runMigrations,
  schemaSnapshotFileName,
} from './migrations.ts';
export type { AppliedMigration, Db, MigrationFile, RunMigrationsOptions } from './migrations.ts';
export { dumpSchema, schemaSnapshotHeader, schemaSnapshotPath } from './schema-snapshot.ts';
export { startWalCheckpointer } from './wal-checkpointer.ts';
export type { CheckpointerStats, WalCheckpointer, WalCheckpointerOptions } from './wal-checkpointer.ts';
export { cutoffsFor, pruneFamilies, pruneHistory } from './prune.ts';
export type { PruneCutoffs, PruneFamily, PruneReport } from './prune.ts';
export { startPruner } from './pruner.ts';
export type { Pruner, PrunerOptions, RetentionMs } from './pruner.ts';
