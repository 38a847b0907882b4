/**
 * `vigosrv restore FILE --data-dir DIR [--identity AGE_KEY_FILE | --passphrase-file FILE] [--force]`:
 * the offline restore, run with the server stopped. Exit 0 when restored; 65 when the archive or target is
 * refused (nothing written), 77 when a running server holds the target, 78 for a wrong command line.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { exitCodes, isVigoError } from '../core/index.ts';
import { defaultMigrationsDir, readMigrationFiles } from '../store/index.ts';
import type { RestoreKey } from './encryption.ts';
import { parseIdentityFile, parsePassphraseFile } from './encryption.ts';
import { restoreBackup } from './restore.ts';

export const restoreUsage =
  'usage: vigosrv restore FILE --data-dir DIR [--identity AGE_KEY_FILE | --passphrase-file FILE] [--force]\n';

interface RestoreArgs {
  archive: string;
  dataDir: string;
  identityFile?: string;
  passphraseFile?: string;
  force: boolean;
}

class UsageError extends Error {}

export function parseRestoreArgs(argv: readonly string[]): RestoreArgs {
  const values = new Map<string, string>();
  const positional: string[] = [];
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--force') {
      force = true;
      continue;
    }
    const match = /^--(data-dir|identity|passphrase-file)(?:=(.*))?$/.exec(arg);
    if (match !== null) {
      const name = match[1] as string;
      const value = match[2] ?? argv[++i];
      if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
      if (values.has(name)) throw new UsageError(`--${name} was given twice`);
      values.set(name, value);
      continue;
    }
    if (arg.startsWith('-')) throw new UsageError(`unknown flag ${arg}`);
    positional.push(arg);
  }
  if (positional.length !== 1) throw new UsageError('name one backup FILE');
  const dataDir = values.get('data-dir');
  if (dataDir === undefined)
    throw new UsageError('--data-dir DIR is required: where the server is restored to');
  if (values.has('identity') && values.has('passphrase-file'))
    throw new UsageError('give --identity or --passphrase-file, not both');
  return {
    archive: positional[0] as string,
    dataDir,
    ...(values.has('identity') ? { identityFile: values.get('identity') } : {}),
    ...(values.has('passphrase-file') ? { passphraseFile: values.get('passphrase-file') } : {}),
    force,
  };
}

function keyFrom(args: RestoreArgs): RestoreKey | undefined {
  if (args.identityFile !== undefined)
    return { kind: 'identity', identity: parseIdentityFile(fs.readFileSync(args.identityFile, 'utf8')) };
  if (args.passphraseFile !== undefined)
    return {
      kind: 'passphrase',
      passphrase: parsePassphraseFile(fs.readFileSync(args.passphraseFile, 'utf8')),
    };
  return undefined;
}

/** Whether a running vigosrv holds `dataDir`'s lock (checked without writing anything there). */
function heldByServer(dataDir: string): boolean {
  const lockFile = path.join(dataDir, 'vigosrv.lock');
  if (!fs.existsSync(lockFile)) return false;
  const db = new Database(lockFile, { timeout: 0, fileMustExist: true });
  try {
    db.exec('BEGIN EXCLUSIVE');
    db.exec('ROLLBACK');
    return false;
  } catch {
    return true;
  } finally {
    db.close();
  }
}

export async function runRestoreCommand(
  argv: readonly string[],
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<number> {
  let args: RestoreArgs;
  try {
    args = parseRestoreArgs(argv);
  } catch (err) {
    io.err(`vigosrv restore: ${(err as Error).message}\n${restoreUsage}`);
    return exitCodes.config;
  }
  const dataDir = path.resolve(args.dataDir);
  if (heldByServer(dataDir)) {
    io.err(`vigosrv restore: a running vigosrv holds ${dataDir}; stop it first (nothing was written)\n`);
    return exitCodes.dataDirLocked;
  }
  try {
    const newestSchemaVersion = Math.max(
      0,
      ...readMigrationFiles(defaultMigrationsDir).map((m) => m.version),
    );
    const result = await restoreBackup({
      archive: args.archive,
      dataDir,
      key: keyFrom(args),
      force: args.force,
      newestSchemaVersion,
    });
    const m = result.manifest;
    io.out(
      [
        `restored ${m.members.length} files into ${result.dataDir}, each verified against the manifest's SHA-256`,
        `  backup of:       vigosrv ${m.serverVersion}, ${m.createdAt}`,
        `  config version:  ${m.configVersion ?? 'none published'}; schema version ${m.schemaVersion}`,
        ...(result.previousMovedTo === undefined
          ? []
          : [`  previous dir:    moved to ${result.previousMovedTo}`]),
        ...(m.members.some((x) => x.path === 'config/server.yaml')
          ? [`  server.yaml:     the backed-up copy is ${path.join(result.dataDir, 'config', 'server.yaml')}`]
          : []),
        `start it with: vigosrv --data-dir ${result.dataDir}`,
        '',
      ].join('\n'),
    );
    return exitCodes.ok;
  } catch (err) {
    if (isVigoError(err)) {
      io.err(`vigosrv restore: ${err.code}: ${err.message} (nothing was written to ${dataDir})\n`);
      return exitCodes.restoreRefused;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      io.err(`vigosrv restore: ${(err as Error).message} (nothing was written to ${dataDir})\n`);
      return exitCodes.restoreRefused;
    }
    throw err;
  }
}
