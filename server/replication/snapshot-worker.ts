/**
 * The primary's snapshot thread: its own read-only connection, and at each request a consistent image of
 * the database (sqlite3_serialize inside one read transaction: the same pages the file holds, so two
 * images differ only where the data changed) with a 16-byte SHA-256 prefix per page. Skipped when SQLite's
 * data_version shows no commit since the last image.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import type { SnapshotData, SnapshotReply } from './snapshot.ts';

const port = parentPort;
if (port === null) throw new Error('snapshot-worker.ts runs only as a worker thread');
const { file, busyTimeoutMs } = workerData as SnapshotData;
const db = new Database(file, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
let lastVersion = -1;

function take(force: boolean): SnapshotReply {
  const version = db.pragma('data_version', { simple: true }) as number;
  if (!force && version === lastVersion) return { kind: 'unchanged' };
  const started = Date.now();
  const image = db.serialize();
  lastVersion = version;
  const pageSize = image.readUInt16BE(16) === 1 ? 65536 : image.readUInt16BE(16);
  const pageCount = image.length / pageSize;
  const hashes = Buffer.alloc(pageCount * 16);
  for (let i = 0; i < pageCount; i += 1)
    createHash('sha256')
      .update(image.subarray(i * pageSize, (i + 1) * pageSize))
      .digest()
      .copy(hashes, i * 16, 0, 16);
  const sha256 = createHash('sha256').update(image).digest('hex');
  return { kind: 'image', takenAtMs: started, pageSize, pageCount, sha256, image, hashes };
}

port.on('message', (message: { force: boolean } | 'stop') => {
  if (message === 'stop') {
    db.close();
    port.close();
    return;
  }
  try {
    const reply = take(message.force);
    port.postMessage(
      reply,
      reply.kind === 'image' ? [reply.image.buffer as ArrayBuffer, reply.hashes.buffer as ArrayBuffer] : [],
    );
  } catch (err) {
    port.postMessage({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
});
