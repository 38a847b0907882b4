/**
 * The vault's master key: 32 random bytes in `master.key` (0600 in a 0700 directory). A rotation stages
 * the new key in `master.key.next` before the vault is rewritten, so whichever key the vault on disk was
 * written with is always on disk too; `reconcileMasterKey` finishes or discards a rotation a crash cut short.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VigoError } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import { removeDurable, renameDurable, replaceFileAtomic } from './atomic-file.ts';

export const masterKeyBytes = 32;
export const masterKeyFileName = 'master.key';
export const nextMasterKeyFileName = 'master.key.next';

export interface MasterKey {
  readonly key: Buffer;
  /** Names the key without revealing it: the vault records which key it was written with. */
  readonly id: string;
}

export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update('vigo/secrets/master-key-id\0').update(key).digest('hex').slice(0, 16);
}

export function generateMasterKey(): MasterKey {
  const key = randomBytes(masterKeyBytes);
  return { key, id: masterKeyId(key) };
}

function keyError(file: string, problem: string, fix: string): VigoError {
  return new VigoError('secrets.master_key_invalid', `${file} ${problem}; ${fix}`, { file });
}

/** Reads and checks a key file: a regular file of exactly 32 bytes that only its owner can access. */
export function readMasterKeyFile(file: string): MasterKey {
  const stat = lstatSync(file);
  if (!stat.isFile())
    throw keyError(
      file,
      'is not a regular file',
      'replace it with the 32-byte master key file from a backup',
    );
  const mode = stat.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    const octal = mode.toString(8).padStart(3, '0');
    throw keyError(
      file,
      `is accessible by group or others (mode ${octal})`,
      `run chmod 600 ${file}, and rotate the master key (vigocli secrets rotate) if others may have read it`,
    );
  }
  const key = readFileSync(file);
  if (key.length !== masterKeyBytes)
    throw keyError(
      file,
      `is ${key.length} bytes long, a master key is exactly ${masterKeyBytes} bytes`,
      'restore the key file from the backup that holds the matching vault.json',
    );
  return { key, id: masterKeyId(key) };
}

export function writeMasterKeyFile(file: string, key: MasterKey): void {
  replaceFileAtomic(file, key.key);
}

export interface KeyFiles {
  readonly current: string;
  readonly next: string;
}

export function keyFiles(dir: string): KeyFiles {
  return { current: join(dir, masterKeyFileName), next: join(dir, nextMasterKeyFileName) };
}

/**
 * The key the vault was written with (`vaultKeyId`; undefined when there is no vault file yet), after
 * settling any rotation in progress: if the vault is under the staged next key, the rotation had committed
 * and the next key is promoted; if it is under the current key, the staged key is discarded.
 */
export function reconcileMasterKey(dir: string, vaultKeyId: string | undefined, log: Logger): MasterKey {
  const files = keyFiles(dir);
  const hasCurrent = existsSync(files.current);
  const hasNext = existsSync(files.next);
  if (!hasCurrent) {
    if (vaultKeyId !== undefined && hasNext) return promoteIfMatching(files, vaultKeyId, log);
    if (vaultKeyId !== undefined)
      throw keyError(
        files.current,
        'is missing while the vault holds secrets',
        'restore master.key from the backup that holds this vault.json (a new key cannot decrypt them)',
      );
    if (hasNext) removeDurable(files.next);
    const created = generateMasterKey();
    writeMasterKeyFile(files.current, created);
    log.info('created the secrets master key', { file: files.current, keyId: created.id });
    return created;
  }
  const current = readMasterKeyFile(files.current);
  if (vaultKeyId === undefined || vaultKeyId === current.id) {
    if (hasNext) {
      removeDurable(files.next);
      log.warn('discarded an unfinished master key rotation; the vault still uses the current key', {
        keyId: current.id,
      });
    }
    return current;
  }
  if (hasNext) return promoteIfMatching(files, vaultKeyId, log);
  throw keyError(
    files.current,
    `is not the key the vault was written with (key id ${current.id}, the vault needs ${vaultKeyId})`,
    'restore master.key from the backup that holds this vault.json',
  );
}

function promoteIfMatching(files: KeyFiles, vaultKeyId: string, log: Logger): MasterKey {
  const next = readMasterKeyFile(files.next);
  if (next.id !== vaultKeyId)
    throw keyError(
      files.current,
      `nor ${files.next} is the key the vault was written with (the vault needs key id ${vaultKeyId})`,
      'restore master.key from the backup that holds this vault.json',
    );
  renameDurable(files.next, files.current);
  log.warn('completed an interrupted master key rotation', { keyId: next.id });
  return next;
}
