/**
 * Copies of files taken just before an executor changes or deletes them, so an operator can see
 * and restore what was there. Layout: `<dir>/<first 16 hex of sha256(path)>/<takenAtMs>-<basename>`
 * plus an `index.json` naming the original path (the hashed folder name alone would not say).
 * The directory listing is the source of truth; the index is rewritten from it after each snapshot.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface FileSnapshot {
  /** The file that was copied. */
  readonly path: string;
  /** Where the copy lives. */
  readonly snapshotPath: string;
  readonly takenAtMs: number;
  readonly sizeBytes: number;
}

export interface FileSnapshotStore {
  readonly dir: string;
  /**
   * Copies `path` when it exists and is a regular file (symbolic links are not followed) and drops
   * the oldest copies beyond the retention. Returns undefined when there was nothing to copy.
   */
  snapshot(path: string): Promise<FileSnapshot | undefined>;
  /** The snapshots of `path`, newest first. */
  list(path: string): Promise<FileSnapshot[]>;
}

export interface FileSnapshotOptions {
  /** Snapshots kept per file (the agent's --snapshot-retention); default 5. */
  readonly keep?: number;
  readonly now?: () => number;
}

export const defaultSnapshotRetention = 5;

const snapshotName = /^(\d+)-/;

function errorCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err ? String((err as NodeJS.ErrnoException).code) : undefined;
}

async function privateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await chmod(path, 0o700);
}

async function writePrivateAtomically(path: string, data: string): Promise<void> {
  const tmp = join(dirname(path), `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  await writeFile(tmp, data, { mode: 0o600, flush: true });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

export function createFileSnapshotStore(dir: string, options: FileSnapshotOptions = {}): FileSnapshotStore {
  const keep = options.keep ?? defaultSnapshotRetention;
  if (!Number.isSafeInteger(keep) || keep < 1)
    throw new RangeError(`snapshot retention must be a whole number of at least 1, got ${keep}`);
  const now = options.now ?? Date.now;
  const folderOf = (path: string): string =>
    join(dir, createHash('sha256').update(path).digest('hex').slice(0, 16));

  async function list(path: string): Promise<FileSnapshot[]> {
    const folder = folderOf(path);
    let names: string[];
    try {
      names = await readdir(folder);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return [];
      throw err;
    }
    const found: FileSnapshot[] = [];
    for (const name of names) {
      const m = snapshotName.exec(name);
      if (!m) continue;
      const snapshotPath = join(folder, name);
      const info = await stat(snapshotPath);
      found.push({ path, snapshotPath, takenAtMs: Number(m[1]), sizeBytes: info.size });
    }
    return found.sort((a, b) => b.takenAtMs - a.takenAtMs);
  }

  async function copyToStore(path: string): Promise<FileSnapshot | undefined> {
    const folder = folderOf(path);
    await privateDir(dir);
    await privateDir(folder);
    const existing = await list(path);
    // Names sort by time; two snapshots in one millisecond still get distinct, ordered names.
    const takenAtMs = Math.max(now(), (existing[0]?.takenAtMs ?? -1) + 1);
    const snapshotPath = join(folder, `${takenAtMs}-${basename(path)}`);
    const tmp = join(folder, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await copyFile(path, tmp, constants.COPYFILE_EXCL);
    } catch (err) {
      // The file went away between the check and the copy: nothing left to preserve.
      if (errorCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    try {
      await chmod(tmp, 0o600);
      const handle = await open(tmp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, snapshotPath);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    const all = await list(path);
    for (const old of all.slice(keep)) await rm(old.snapshotPath, { force: true });
    const kept = all.slice(0, keep);
    const index = {
      path,
      snapshots: kept.map((s) => ({
        file: basename(s.snapshotPath),
        takenAtMs: s.takenAtMs,
        sizeBytes: s.sizeBytes,
      })),
    };
    await writePrivateAtomically(join(folder, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
    return kept.find((s) => s.snapshotPath === snapshotPath);
  }

  // One snapshot at a time, so retention and name ordering never race with each other.
  let queue: Promise<unknown> = Promise.resolve();

  async function snapshotNow(path: string): Promise<FileSnapshot | undefined> {
    try {
      if (!(await lstat(path)).isFile()) return undefined;
    } catch (err) {
      if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return undefined;
      throw err;
    }
    return copyToStore(path);
  }

  function snapshot(path: string): Promise<FileSnapshot | undefined> {
    const next = queue.then(() => snapshotNow(path));
    queue = next.catch(() => undefined);
    return next;
  }

  return { dir, snapshot, list };
}
