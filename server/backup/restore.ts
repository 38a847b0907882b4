/**
 * Restores a backup into a data directory of a stopped server. Nothing is written at the target until the
 * whole archive has been read and verified: members are extracted into a private staging directory beside
 * the target (same file system), each checked against the manifest's size and SHA-256, the database given a
 * quick check, and only then is the staging directory renamed into place. Any refusal removes the staging
 * directory and leaves the target as it was.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { VigoError, isVigoError } from '../core/index.ts';
import type { RestoreKey } from './encryption.ts';
import { ageMagic, decryptStream } from './encryption.ts';
import type { Manifest, ManifestMember } from './manifest.ts';
import { manifestMaxBytes, manifestName, memberPaths, parseManifest } from './manifest.ts';
import type { TarLimits } from './tar.ts';
import { ByteReader, blockBytes, padding, readMemberHeader } from './tar.ts';

/** Bounds on what restore reads from an archive, whoever made it. */
export const restoreLimits: TarLimits = {
  maxMembers: 100_000,
  maxMemberBytes: 64 * 1024 * 1024 * 1024,
  maxTotalBytes: 128 * 1024 * 1024 * 1024,
};

export interface RestoreOptions {
  readonly archive: string;
  readonly dataDir: string;
  readonly key: RestoreKey | undefined;
  /** Replace a data dir that is not empty (it is moved aside, never deleted). */
  readonly force: boolean;
  /** The newest schema version this build can open. */
  readonly newestSchemaVersion: number;
  readonly limits?: TarLimits;
}

export interface RestoreResult {
  readonly manifest: Manifest;
  readonly dataDir: string;
  /** Where the data dir that was there went (with `force`). */
  readonly previousMovedTo: string | undefined;
}

/** `from` piped into `to`, with an error of `from` ending `to` too (pipe alone would leave it waiting). */
function pipeInto(from: Readable, to: NodeJS.ReadWriteStream & Readable): Readable {
  from.once('error', (err) => to.destroy(err));
  return from.pipe(to);
}

function isEmptyDir(dir: string): boolean {
  return fs.readdirSync(dir).length === 0;
}

async function openArchive(file: string, key: RestoreKey | undefined): Promise<Readable> {
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(ageMagic.length);
  const n = fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  const raw = fs.createReadStream(file, { highWaterMark: 1024 * 1024 });
  const encrypted = n === ageMagic.length && head.equals(ageMagic);
  if (encrypted) {
    if (key === undefined) {
      raw.destroy();
      throw new VigoError(
        'backup.decrypt_failed',
        'the backup is encrypted: give --identity AGE_KEY_FILE or --passphrase-file FILE',
      );
    }
    return pipeInto(await decryptStream(raw, key), createGunzip());
  }
  if (n < 2 || head[0] !== 0x1f || head[1] !== 0x8b) {
    raw.destroy();
    throw new VigoError(
      'backup.archive_invalid',
      `${file} is neither a gzip nor an age file: not a Vigo backup`,
    );
  }
  return pipeInto(raw, createGunzip());
}

async function extractMember(
  reader: ByteReader,
  member: ManifestMember,
  size: number,
  target: string,
): Promise<void> {
  if (size !== member.size) {
    throw new VigoError(
      'backup.checksum_mismatch',
      `the archive member ${member.path} is ${size} bytes; the manifest says ${member.size}`,
    );
  }
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const fd = fs.openSync(target, 'wx', 0o600);
  const hash = createHash('sha256');
  try {
    let left = size;
    while (left > 0) {
      const chunk = await reader.read(Math.min(left, 1024 * 1024));
      if (chunk.length === 0) break;
      hash.update(chunk);
      fs.writeSync(fd, chunk);
      left -= chunk.length;
    }
    if (left > 0)
      throw new VigoError('backup.archive_invalid', `the archive ends inside ${member.path} (truncated)`);
  } finally {
    fs.closeSync(fd);
  }
  const pad = padding(size).length;
  if ((await reader.read(pad)).length < pad) {
    throw new VigoError('backup.archive_invalid', `the archive ends after ${member.path} (truncated)`);
  }
  if (hash.digest('hex') !== member.sha256) {
    throw new VigoError(
      'backup.checksum_mismatch',
      `the archive member ${member.path} does not match its SHA-256 in the manifest (altered or corrupted)`,
    );
  }
}

/** Reads and verifies the whole archive into `staging`; returns its manifest. */
async function extractVerified(stream: Readable, staging: string, limits: TarLimits): Promise<Manifest> {
  const reader = new ByteReader(stream as AsyncIterable<Buffer>);
  const first = await readMemberHeader(reader, limits, 0);
  if (first === undefined || first.name !== manifestName) {
    throw new VigoError('backup.archive_invalid', `the archive does not begin with ${manifestName}`);
  }
  if (first.size > manifestMaxBytes) {
    throw new VigoError('backup.too_large', `${manifestName} is over ${manifestMaxBytes} bytes`);
  }
  const manifestBytes = await reader.read(first.size + padding(first.size).length);
  if (manifestBytes.length < first.size + padding(first.size).length) {
    throw new VigoError('backup.archive_invalid', `the archive ends inside ${manifestName} (truncated)`);
  }
  const manifest = parseManifest(manifestBytes.subarray(0, first.size).toString('utf8'), limits.maxMembers);
  const listed = new Map(manifest.members.map((m) => [m.path, m]));
  const seen = new Set<string>();
  let total = first.size;
  for (;;) {
    const header = await readMemberHeader(reader, limits, total);
    if (header === undefined) break;
    const member = listed.get(header.name);
    if (member === undefined || seen.has(header.name)) {
      throw new VigoError(
        'backup.archive_invalid',
        `the archive member ${header.name} is ${member === undefined ? 'not in the manifest' : 'there twice'}`,
      );
    }
    seen.add(header.name);
    total += header.size;
    await extractMember(reader, member, header.size, path.join(staging, header.name));
  }
  const missing = manifest.members.filter((m) => !seen.has(m.path)).map((m) => m.path);
  if (missing.length > 0) {
    throw new VigoError(
      'backup.archive_invalid',
      `the archive lacks ${missing.slice(0, 5).join(', ')} (truncated?)`,
    );
  }
  // Read to the end, so gzip checks its length and CRC (and age its last chunk); only zeros may follow.
  for (;;) {
    const rest = await reader.read(64 * blockBytes);
    if (rest.length === 0) break;
    if (!rest.every((byte) => byte === 0))
      throw new VigoError('backup.archive_invalid', 'data follows the end of the archive');
  }
  return manifest;
}

function quickCheck(dbFile: string): void {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const result = db.prepare('PRAGMA quick_check').pluck().all() as string[];
    if (result.length !== 1 || result[0] !== 'ok') {
      throw new VigoError(
        'backup.archive_invalid',
        `the database in the backup fails its check: ${result[0] ?? ''}`,
      );
    }
  } finally {
    db.close();
  }
}

/** Restores `archive` into `dataDir`, or refuses with a backup.* code and writes nothing there. */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const dataDir = path.resolve(options.dataDir);
  const exists = fs.existsSync(dataDir);
  if (exists && !fs.statSync(dataDir).isDirectory()) {
    throw new VigoError('backup.target_not_empty', `${dataDir} exists and is not a directory`);
  }
  if (exists && !isEmptyDir(dataDir) && !options.force) {
    throw new VigoError(
      'backup.target_not_empty',
      `${dataDir} is not empty: restore into a new directory, or give --force to move it aside and replace it`,
    );
  }
  if (!fs.existsSync(options.archive) || !fs.statSync(options.archive).isFile()) {
    throw new VigoError('backup.invalid', `${options.archive} is not a file`);
  }
  const parent = path.dirname(dataDir);
  fs.mkdirSync(parent, { recursive: true });
  const staging = fs.mkdtempSync(path.join(parent, `.${path.basename(dataDir)}.restore-`));
  fs.chmodSync(staging, 0o700);
  try {
    let manifest: Manifest;
    try {
      manifest = await extractVerified(
        await openArchive(options.archive, options.key),
        staging,
        options.limits ?? restoreLimits,
      );
    } catch (err) {
      if (isVigoError(err)) throw err;
      // zlib and age report a damaged or cut stream as plain errors.
      throw new VigoError(
        'backup.archive_invalid',
        `the archive is damaged or truncated: ${(err as Error).message}`,
      );
    }
    if (manifest.schemaVersion > options.newestSchemaVersion) {
      throw new VigoError(
        'backup.invalid',
        `the backup's database has schema version ${manifest.schemaVersion}; this vigosrv knows up to ${options.newestSchemaVersion}: restore it with vigosrv ${manifest.serverVersion} or newer`,
      );
    }
    quickCheck(path.join(staging, memberPaths.database));
    let previousMovedTo: string | undefined;
    if (exists) {
      if (isEmptyDir(dataDir)) fs.rmdirSync(dataDir);
      else {
        previousMovedTo = `${dataDir}.before-restore-${new Date().toISOString().replace(/[-:.]/g, '')}`;
        fs.renameSync(dataDir, previousMovedTo);
      }
    }
    fs.renameSync(staging, dataDir);
    return { manifest, dataDir, previousMovedTo };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
