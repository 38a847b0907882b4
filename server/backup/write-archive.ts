/**
 * Writes a backup archive: tar (manifest.json first, then each member in manifest order), gzip, and age
 * when a key is given, into `<output>.partial` (0600) renamed to `output` only once it is complete, so a
 * file at `output` is always a whole archive.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { BackupKey } from './encryption.ts';
import { encryptStream } from './encryption.ts';
import type { Manifest } from './manifest.ts';
import { manifestName } from './manifest.ts';
import { endOfArchive, fileHeader, padding } from './tar.ts';

async function* tarStream(manifest: Manifest, workDir: string): AsyncGenerator<Buffer> {
  const mtime = Math.floor(Date.parse(manifest.createdAt) / 1000);
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  yield fileHeader(manifestName, manifestBytes.length, mtime);
  yield manifestBytes;
  yield padding(manifestBytes.length);
  for (const member of manifest.members) {
    yield fileHeader(member.path, member.size, mtime);
    let written = 0;
    for await (const chunk of fs.createReadStream(path.join(workDir, member.path), {
      highWaterMark: 1024 * 1024,
    })) {
      written += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (written !== member.size) throw new Error(`${member.path} changed size while it was archived`);
    yield padding(member.size);
  }
  yield endOfArchive;
}

/** The archive as a stream (tar.gz, or tar.gz.age with a key). */
export async function archiveStream(
  manifest: Manifest,
  workDir: string,
  key: BackupKey | undefined,
): Promise<Readable> {
  const gzipped = Readable.from(tarStream(manifest, workDir)).pipe(createGzip({ level: 6 }));
  return key === undefined ? gzipped : encryptStream(gzipped, key);
}

/** Writes the archive to `output`; returns its size in bytes. */
export async function writeArchive(
  manifest: Manifest,
  workDir: string,
  output: string,
  key: BackupKey | undefined,
): Promise<number> {
  const partial = `${output}.partial`;
  try {
    await pipeline(
      await archiveStream(manifest, workDir, key),
      fs.createWriteStream(partial, { mode: 0o600, flags: 'wx' }),
    );
    fs.chmodSync(partial, 0o600);
    fs.renameSync(partial, output);
  } catch (err) {
    fs.rmSync(partial, { force: true });
    throw err;
  }
  return fs.statSync(output).size;
}

/** The file name a backup made at `at` gets: sorts by time (to the millisecond), says whether it is encrypted. */
export function backupFileName(at: Date, encrypted: boolean): string {
  const stamp = at.toISOString().replace(/[-:.]/g, '');
  return `vigo-backup-${stamp}.tar.gz${encrypted ? '.age' : ''}`;
}
