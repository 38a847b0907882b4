/**
 * The stable traits cache file: the last value of each stable collector and when it was collected,
 * so a restarted agent does not rerun slow collectors (packages) within the stable TTL. Values from
 * another boot are ignored: a reboot may bring a new kernel, hostname or network.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readTextOrNull } from './read.ts';

const cacheFormat = 'vigo-traits-cache/1';

export interface CachedValue {
  readonly collectedAtMs: number;
  readonly value: Record<string, unknown>;
}

export interface LoadedCache {
  readonly entries: Map<string, CachedValue>;
  /** Why the file was ignored (unreadable JSON, unknown format), for the run's errors; null when fine. */
  readonly problem: string | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export async function loadTraitCache(file: string, bootId: string | null): Promise<LoadedCache> {
  const entries = new Map<string, CachedValue>();
  let text: string | null;
  try {
    text = await readTextOrNull(file);
  } catch (err) {
    return { entries, problem: `cannot read the traits cache ${file}: ${String(err)}` };
  }
  if (text === null) return { entries, problem: null };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return {
      entries,
      problem: `ignored the traits cache ${file}, it is not JSON (${String(err)}); it is rewritten`,
    };
  }
  if (!isRecord(doc) || doc.format !== cacheFormat || !isRecord(doc.collectors))
    return {
      entries,
      problem: `ignored the traits cache ${file}: not a ${cacheFormat} file; it is rewritten`,
    };
  if (doc.boot_id !== bootId) return { entries, problem: null };
  for (const [name, entry] of Object.entries(doc.collectors)) {
    if (!isRecord(entry) || !isRecord(entry.value) || typeof entry.collected_at_ms !== 'number') continue;
    entries.set(name, { collectedAtMs: entry.collected_at_ms, value: entry.value });
  }
  return { entries, problem: null };
}

/** Writes the cache atomically (temp file beside it, fsync, rename), mode 0600: traits describe the host. */
export async function saveTraitCache(
  file: string,
  bootId: string | null,
  entries: ReadonlyMap<string, CachedValue>,
): Promise<void> {
  const collectors: Record<string, unknown> = {};
  for (const [name, entry] of entries)
    collectors[name] = { collected_at_ms: entry.collectedAtMs, value: entry.value };
  const text = JSON.stringify({ format: cacheFormat, boot_id: bootId, collectors });
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.chmod(0o600);
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
