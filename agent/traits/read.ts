/** Small readers shared by the collectors: absent or unreadable files are facts, not failures. */
import { open, readFile, stat } from 'node:fs/promises';

const absentCodes = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM']);

function isAbsent(err: unknown): boolean {
  return typeof err === 'object' && err !== null && absentCodes.has(String((err as { code?: unknown }).code));
}

/** The file's text, or null when it does not exist or may not be read. */
export async function readTextOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isAbsent(err)) return null;
    throw err;
  }
}

/** The file's text; a missing file is an error that names it. */
export async function readTextRequired(path: string, what: string): Promise<string> {
  const text = await readTextOrNull(path);
  if (text === null) throw new Error(`cannot read ${what}: ${path} is missing or unreadable`);
  return text;
}

export async function existsPath(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isAbsent(err)) return false;
    throw err;
  }
}

/** `Key:   value` lines (/proc/meminfo, /proc/cpuinfo): first occurrence of each key wins. */
export function parseColonLines(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim();
    if (!out.has(key)) out.set(key, line.slice(colon + 1).trim());
  }
  return out;
}

/** Mebibytes, rounded down, from a byte count. */
export function bytesToMb(bytes: number): number {
  return Math.floor(bytes / 1048576);
}

/**
 * The file's first `maxBytes` bytes as text (a /proc table can be megabytes on a busy host), and
 * whether it was cut; null when the file does not exist or may not be read.
 */
export async function readTextBounded(
  path: string,
  maxBytes: number,
): Promise<{ text: string; truncated: boolean } | null> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if (isAbsent(err)) return null;
    throw err;
  }
  try {
    // Chunks as the file grows: a bound of megabytes must not cost megabytes for a small file.
    const chunks: Buffer[] = [];
    let length = 0;
    // /proc files report size 0: read until the end or past the bound, whichever comes first.
    while (length <= maxBytes) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1 - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
    }
    const truncated = length > maxBytes;
    const all = Buffer.concat(chunks, length);
    return { text: all.subarray(0, Math.min(length, maxBytes)).toString('utf8'), truncated };
  } catch (err) {
    if (isAbsent(err)) return null;
    throw err;
  } finally {
    await handle.close();
  }
}

/** A sysfs attribute: trimmed text, null when absent, unreadable or empty. */
export async function readSysValue(path: string): Promise<string | null> {
  let text;
  try {
    text = await readTextBounded(path, 4096);
  } catch {
    // Some attributes answer EIO or ENODEV when the device does not provide the value.
    return null;
  }
  const value = text?.text.replace(/\0/g, '').trim() ?? '';
  return value === '' ? null : value;
}
