/**
 * Where vigosrv keeps its files. The mode is chosen explicitly (--system or VIGO_SYSTEM=1), never from
 * the uid, so running as root in a container does not silently write to /srv/vigo.
 */
import path from 'node:path';
import type { DefaultContext } from './options.ts';
import type { ServerConfig } from './registry.ts';

/** The root of a system-mode installation. */
export const systemDir = '/srv/vigo';

/**
 * System mode: <systemDir>. User mode: $XDG_DATA_HOME/vigo when that is set to an absolute path (the
 * XDG spec says to ignore relative ones), else ./.vigo under the cwd.
 */
export function defaultDataDir(ctx: DefaultContext): string {
  if (ctx.mode === 'system') return ctx.systemDir;
  const xdgDataHome = ctx.env['XDG_DATA_HOME'];
  if (xdgDataHome !== undefined && xdgDataHome !== '' && path.isAbsolute(xdgDataHome)) {
    return path.join(xdgDataHome, 'vigo');
  }
  return path.resolve(ctx.cwd, '.vigo');
}

export interface ResolvedPaths {
  readonly dataDir: string;
  readonly dbFile: string;
  readonly tlsDir: string;
  readonly lockFile: string;
  readonly stacksDir: string;
  readonly secretsDir: string;
  readonly localAdminTokenFile: string;
  /** Where periodic audit checkpoints are appended (audit.checkpoint_file). */
  readonly auditCheckpointFile: string;
}

/** The files and directories under the data dir. loadConfig already made both directories absolute. */
export function resolvePaths(cfg: ServerConfig): ResolvedPaths {
  const dataDir = path.resolve(cfg['server.data_dir']);
  const stacksDir = cfg['server.stacks_dir'] === '' ? path.join(dataDir, 'stacks') : cfg['server.stacks_dir'];
  return {
    dataDir,
    dbFile: path.join(dataDir, 'db', 'vigo.db'),
    tlsDir: path.join(dataDir, 'tls'),
    lockFile: path.join(dataDir, 'vigosrv.lock'),
    stacksDir: path.resolve(stacksDir),
    secretsDir: path.join(dataDir, 'secrets'),
    localAdminTokenFile: path.join(dataDir, 'local-admin.token'),
    auditCheckpointFile:
      cfg['audit.checkpoint_file'] === ''
        ? path.join(dataDir, 'audit-checkpoints.jsonl')
        : cfg['audit.checkpoint_file'],
  };
}
