/**
 * The data directory's parts belong together: the database, the PKI every envoy trusts and the secrets vault.
 * A start that finds one of them gone or emptied while the others show an established server stops with a
 * message naming the file and the way back, instead of quietly creating a new one (a new CA and bundle key
 * would cut off the whole fleet; an empty database over a truncated file would lose it for good).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedPaths } from '../config/index.ts';
import type { Logger } from '../core/index.ts';
import type { Db } from '../store/index.ts';
import { StartupError } from './startup-error.ts';

/** The files every enrolled envoy trusts (pki/material.ts creates and loads them). */
const pinnedPkiFiles = ['ca.crt', 'ca.key', 'bundle-signing.key'] as const;

function sizeOf(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function pkiPresent(paths: ResolvedPaths): string[] {
  return pinnedPkiFiles.map((name) => join(paths.tlsDir, name)).filter((file) => existsSync(file));
}

/**
 * Before the database is opened. A 0-byte file where the PKI shows an established server is what a failed
 * copy, restore or full disk leaves; SQLite would take it for a new database (and delete a -wal file beside
 * it), so it is refused untouched (exit 74). A missing file is a deliberate state, not damage: it is created
 * with a warning, which is also how a server starts with a CA and bundle key provided beforehand.
 */
export function checkDatabaseFile(paths: ResolvedPaths, log: Logger): void {
  const file = paths.dbFile;
  const size = sizeOf(file);
  const pki = pkiPresent(paths);
  if (size === undefined) {
    if (pki.length > 0) {
      log.warn(
        'no database: creating a new, empty one beside the existing PKI. Envoys enrolled before must enroll ' +
          'again; if the database was lost, stop vigosrv and restore it from a backup instead',
        { file, pki },
      );
    }
    return;
  }
  if (size > 0) return;
  const walBytes = sizeOf(`${file}-wal`) ?? 0;
  if (pki.length === 0 && walBytes === 0) return;
  const evidence =
    walBytes > 0
      ? `its write-ahead log ${file}-wal still holds ${walBytes} bytes, which opening it would discard`
      : `${paths.tlsDir} holds this server's CA and bundle-signing key, so it is not a first start`;
  throw new StartupError(
    'store',
    `the database ${file} is empty (0 bytes) but ${evidence}: it was truncated or replaced (a failed copy or ` +
      'restore, a full disk). vigosrv does not start a new database over it, which would lose every envoy, ' +
      'user and audit entry. Restore it (with its -wal file, if the backup has one) from a backup taken ' +
      `together with ${paths.tlsDir}; to start over on purpose, move the data directory aside. ` +
      'The file was not touched (store.file_empty).',
  );
}

/**
 * What in the database depends on the PKI, as a phrase ("the database … records 3 enrolled envoys and 2
 * published configuration versions"), or undefined when nothing does yet.
 */
export function pkiDependents(db: Db, dbFile: string): string | undefined {
  const envoys = db.prepare('SELECT count(*) FROM envoys').pluck().get() as number;
  // The initial empty version is the server's own (source "vigosrv"); everything else was published.
  const versions = db
    .prepare("SELECT count(*) FROM config_versions WHERE source IS NULL OR source <> 'vigosrv'")
    .pluck()
    .get() as number;
  if (envoys === 0 && versions === 0) return undefined;
  const parts = [
    ...(envoys > 0 ? [`${envoys} enrolled envoy${envoys === 1 ? '' : 's'}`] : []),
    ...(versions > 0 ? [`${versions} published configuration version${versions === 1 ? '' : 's'}`] : []),
  ];
  return `the database ${dbFile} records ${parts.join(' and ')}`;
}

/**
 * The vault is kept in vault.json, which vigosrv never removes once a secret was stored (deleting the last
 * secret rewrites it empty). If it is gone while the audit log shows secrets were stored, opening the vault
 * would silently start an empty one under a new master key: refuse (exit 79) naming the file instead.
 */
export function checkVaultPresence(paths: ResolvedPaths, db: Db, vaultFileName: string): void {
  const vaultFile = join(paths.secretsDir, vaultFileName);
  if (existsSync(vaultFile)) return;
  const stored = db
    .prepare("SELECT count(*) FROM audit_log WHERE action IN ('secrets.created', 'secrets.updated')")
    .pluck()
    .get() as number;
  if (stored === 0) return;
  throw new StartupError(
    'pki',
    `the secrets vault ${vaultFile} is missing, but the audit log records ${stored} secret change(s): the vault ` +
      `was lost. Restore ${vaultFile} and its master.key from a backup of ${paths.secretsDir} and start vigosrv ` +
      'again; a new, empty vault would leave every secret: reference unresolvable. Nothing was created.',
  );
}
