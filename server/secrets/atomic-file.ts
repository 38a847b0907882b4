/**
 * Crash-safe file replacement for the vault and its keys: write a temp file beside the target, fsync it,
 * rename it over the target and fsync the directory, so after a crash the target holds either the old or
 * the new bytes, never a mix, and a completed rename survives power loss.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const tempSuffixPattern = /\.\d+\.[0-9a-f]{12}\.tmp$/;

/**
 * The rename happened, so readers already see the new content, but the directory fsync failed, so it may
 * not survive a power loss. Callers that mirror the file in memory must adopt the new state.
 */
export class ReplacedNotDurableError extends Error {
  constructor(file: string, cause: unknown) {
    super(`${file} was replaced but the directory could not be synced`, { cause });
    this.name = 'ReplacedNotDurableError';
  }
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeAllSync(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
}

/** Atomically replaces `file` with `data`, mode 0600. */
export function replaceFileAtomic(file: string, data: Uint8Array): void {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    try {
      writeAllSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  try {
    fsyncDir(dirname(file));
  } catch (err) {
    throw new ReplacedNotDurableError(file, err);
  }
}

/** Atomically renames `from` over `to` (same directory) and makes the rename durable. */
export function renameDurable(from: string, to: string): void {
  renameSync(from, to);
  fsyncDir(dirname(to));
}

export function removeDurable(file: string): void {
  rmSync(file, { force: true });
  fsyncDir(dirname(file));
}

/** Temp files a crash left behind for any of `names` in `dir`; they may hold key material, so they go. */
export function removeStaleTemps(dir: string, names: readonly string[]): string[] {
  const removed: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (!tempSuffixPattern.test(entry)) continue;
    const target = entry.replace(tempSuffixPattern, '');
    if (!names.includes(basename(target))) continue;
    rmSync(join(dir, entry), { force: true });
    removed.push(entry);
  }
  return removed;
}
