/** The backup service of a running server, its schedule (backup.* in server.yaml) and their metrics. */
import path from 'node:path';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { ResolvedPaths } from '../config/index.ts';
import type { Logger } from '../core/index.ts';
import { createBackupService, startBackupSchedule } from '../backup/index.ts';
import type { BackupSchedule, BackupService } from '../backup/index.ts';
import type { AuditRuntime } from './audit-runtime.ts';
import type { ConfigView } from './start.ts';

export function createBackupRuntime(deps: {
  paths: ResolvedPaths;
  configFile: string | undefined;
  busyTimeoutMs: number;
  version: string;
  view: ConfigView;
  log: Logger;
  registry: Registry;
  audit: Pick<AuditRuntime, 'appendSystem'>;
}): { service: BackupService; schedule: BackupSchedule } {
  const registers = [deps.registry];
  const lastSuccess = new Gauge({
    name: 'vigo_backup_last_success_timestamp_seconds',
    help: 'When the last scheduled backup was written to backup.dir (Unix time; 0 before the first).',
    registers,
  });
  lastSuccess.set(0);
  const failures = new Counter({
    name: 'vigo_backup_failures_total',
    help: 'Scheduled backups that failed (nothing was written to backup.dir).',
    registers,
  });
  failures.inc(0);
  const service = createBackupService({
    dataDir: deps.paths.dataDir,
    sources: {
      dbFile: deps.paths.dbFile,
      busyTimeoutMs: deps.busyTimeoutMs,
      tlsDir: deps.paths.tlsDir,
      secretsDir: deps.paths.secretsDir,
      serverYaml: deps.configFile,
      auditCheckpointFile: deps.paths.auditCheckpointFile,
      serverVersion: deps.version,
    },
  });
  const schedule = startBackupSchedule({
    service,
    log: deps.log,
    settings: () => {
      const config = deps.view.current;
      return {
        intervalMs: config['backup.schedule'],
        dir: config['backup.dir'] === '' ? path.join(deps.paths.dataDir, 'backups') : config['backup.dir'],
        keep: config['backup.keep'],
        recipient: config['backup.recipient'],
      };
    },
    onSuccess: (result, pruned) => {
      lastSuccess.set(Date.now() / 1000);
      deps.audit.appendSystem({
        action: 'backup.created',
        target: 'database',
        details: {
          to: result.file,
          bytes: result.bytes,
          members: result.manifest.members.length,
          configVersion: result.manifest.configVersion,
          schemaVersion: result.manifest.schemaVersion,
          pruned,
        },
      });
    },
    onFailure: () => failures.inc(),
  });
  return { service, schedule };
}
