/**
 * The files a standby needs besides the database: the fleet's PKI (tls/), the secrets vault (secrets/) and
 * the stacks directory. The primary lists them as a manifest (root, relative path, mode, size, SHA-256) and
 * ships the ones a standby lacks; the standby checks every path before it writes anything, writes each file
 * atomically, and removes what the manifest no longer lists.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { lstat, readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { protocolError } from './wire.ts';

export const fileRoots = ['tls', 'secrets', 'stacks'] as const;
export type FileRoot = (typeof fileRoots)[number];
export type RootDirs = Readonly<Record<FileRoot, string>>;

export interface ManifestEntry {
  readonly root: FileRoot;
  /** Relative, '/'-separated. */
  readonly path: string;
  readonly mode: number;
  readonly size: number;
  readonly sha256: string;
}

export const fileLimits = {
  maxFiles: 10_000,
  maxFileBytes: 8 * 1024 * 1024,
  maxPathLength: 1024,
  maxDepth: 32,
};

export function entryKey(entry: Pick<ManifestEntry, 'root' | 'path'>): string {
  return `${entry.root}:${entry.path}`;
}

/** Every regular file under the roots (symbolic links and special files are not followed or shipped). */
export async function buildManifest(
  dirs: RootDirs,
): Promise<{ entries: ManifestEntry[]; skipped: string[] }> {
  const entries: ManifestEntry[] = [];
  const skipped: string[] = [];
  const walk = async (root: FileRoot, dir: string, rel: string, depth: number): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const full = join(dir, name);
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const info = await lstat(full).catch(() => undefined);
      if (info === undefined) continue;
      if (info.isDirectory() && depth < fileLimits.maxDepth) await walk(root, full, relPath, depth + 1);
      else if (!info.isFile()) continue;
      else if (info.size > fileLimits.maxFileBytes || entries.length >= fileLimits.maxFiles)
        skipped.push(`${root}/${relPath}`);
      else {
        const data = await readFile(full);
        entries.push({
          root,
          path: relPath,
          mode: info.mode & 0o777,
          size: data.length,
          sha256: createHash('sha256').update(data).digest('hex'),
        });
      }
    }
  };
  for (const root of fileRoots) await walk(root, dirs[root], '', 0);
  return { entries, skipped };
}

export async function readEntry(dirs: RootDirs, entry: ManifestEntry): Promise<Buffer> {
  return readFile(join(dirs[entry.root], ...entry.path.split('/')));
}

const segmentPattern = /^[^/\\\0]+$/;

/** A manifest as the standby receives it: every field checked, every path confined to its root. */
export function parseManifest(raw: unknown): ManifestEntry[] {
  if (!Array.isArray(raw) || raw.length > fileLimits.maxFiles)
    throw protocolError(`the file manifest must be a list of at most ${fileLimits.maxFiles} entries`);
  return raw.map((item, i) => {
    const e = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const root = e['root'];
    const path = e['path'];
    if (!fileRoots.includes(root as FileRoot)) throw protocolError(`manifest entry ${i}: unknown root`);
    if (typeof path !== 'string' || path.length === 0 || path.length > fileLimits.maxPathLength)
      throw protocolError(`manifest entry ${i}: path must be 1..${fileLimits.maxPathLength} characters`);
    const segments = path.split('/');
    if (
      segments.length > fileLimits.maxDepth + 1 ||
      segments.some((s) => s === '.' || s === '..' || !segmentPattern.test(s))
    )
      throw protocolError(`manifest entry ${i}: path ${JSON.stringify(path)} leaves its root`);
    const mode = e['mode'];
    const size = e['size'];
    const sha256 = e['sha256'];
    if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o777)
      throw protocolError(`manifest entry ${i}: mode must be 0..0o777`);
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || size > fileLimits.maxFileBytes)
      throw protocolError(`manifest entry ${i}: size must be 0..${fileLimits.maxFileBytes}`);
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256))
      throw protocolError(`manifest entry ${i}: sha256 must be 64 hex digits`);
    return { root: root as FileRoot, path, mode, size, sha256 };
  });
}

/** Writes one received file atomically after checking its size and digest against its manifest entry. */
export function writeEntry(dirs: RootDirs, entry: ManifestEntry, data: Buffer): void {
  if (data.length !== entry.size || createHash('sha256').update(data).digest('hex') !== entry.sha256)
    throw protocolError(`file ${entry.root}/${entry.path} does not match its manifest entry`);
  const target = join(dirs[entry.root], ...entry.path.split('/'));
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  const tmp = `${target}.replica-tmp`;
  writeFileSync(tmp, data, { mode: entry.mode | 0o600, flush: true });
  renameSync(tmp, target);
}

/** Removes the files under the roots that the manifest does not list (a secret deleted on the primary). */
export function removeUnlisted(dirs: RootDirs, manifest: readonly ManifestEntry[]): number {
  const keep = new Set(manifest.map(entryKey));
  let removed = 0;
  const walk = (root: FileRoot, dir: string, rel: string): void => {
    let dirents: Dirent[];
    try {
      dirents = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const dirent of dirents) {
      const full = join(dir, dirent.name);
      const relPath = rel === '' ? dirent.name : `${rel}/${dirent.name}`;
      if (dirent.isDirectory()) walk(root, full, relPath);
      else if (!keep.has(entryKey({ root, path: relPath }))) {
        rmSync(full, { force: true });
        removed += 1;
      }
    }
  };
  for (const root of fileRoots) walk(root, dirs[root], '');
  return removed;
}
