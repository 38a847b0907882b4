/**
 * The WAL checkpointer's thread: its own connection to the database, and a passive checkpoint whenever
 * the WAL holds enough frames not yet copied into the database file. Passive checkpoints never wait for
 * (or block) the writer.
 */
import Database from 'better-sqlite3';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { CheckpointerData, CheckpointerReport } from './wal-checkpointer.ts';

const port = parentPort;
if (port === null) throw new Error('wal-checkpointer-worker.ts runs only as a worker thread');
const { file, intervalMs, busyTimeoutMs, frames: threshold } = workerData as CheckpointerData;
const db = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs });
let lastWrite = -1;
const header = Buffer.alloc(100);
const littleEndian = endianness() === 'LE';

/**
 * Frames in the WAL not yet copied into the database file, from the WAL-index header in the -shm file
 * (mxFrame at byte 16, nBackfill at byte 96, native byte order: sqlite.org/walformat.html). Read without
 * a lock, so only a hint of when to checkpoint; the checkpoint itself is exact.
 */
function pendingFrames(): number {
  let fd: number | undefined;
  try {
    fd = openSync(`${file}-shm`, 'r');
    if (readSync(fd, header, 0, header.length, 0) < header.length) return 0;
  } catch {
    return 0;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const read = (at: number): number => (littleEndian ? header.readUInt32LE(at) : header.readUInt32BE(at));
  return Math.max(0, read(16) - read(96));
}

function walWrittenAt(): number {
  try {
    return statSync(`${file}-wal`).mtimeMs;
  } catch {
    return -1;
  }
}

/**
 * Checkpoints once if the WAL was written since the last complete one; true when it was written again
 * while this one ran (those frames are left to copy).
 */
function tick(): boolean {
  const written = walWrittenAt();
  if (written === -1 || written === lastWrite) return false;
  const started = performance.now();
  let report: CheckpointerReport;
  let behind = false;
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)') as {
      busy: number;
      log: number;
      checkpointed: number;
    }[];
    const frames = result?.checkpointed ?? 0;
    const walFrames = result?.log ?? 0;
    // Caught up: every frame copied and nothing committed meanwhile, so the writer restarts the WAL
    // from its beginning at its next commit instead of appending to it.
    behind = result?.busy !== 0 || frames < walFrames || walWrittenAt() !== written;
    report = { kind: 'checkpointed', frames, walFrames, caughtUp: !behind, ms: performance.now() - started };
    if (!behind) lastWrite = written;
  } catch (err) {
    report = { kind: 'failed', message: err instanceof Error ? err.message : String(err) };
    lastWrite = written;
  }
  port!.postMessage(report);
  return behind;
}

/**
 * A checkpoint racing the writer's commits may not reach the end of the WAL, and the WAL restarts only
 * after one does: catch up at once, a few times, with what little was appended meanwhile.
 */
function run(): void {
  if (pendingFrames() < threshold) return;
  for (let attempt = 0; attempt < 5 && tick(); attempt++);
}

const timer = setInterval(run, intervalMs);
port.on('message', (message: 'stop') => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  port.close();
});
