/**
 * The backup thread: one backup per request, then it ends. The database snapshot, the copies, the hashing,
 * gzip and encryption all run here, never on the serving thread.
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { collect } from './collect.ts';
import type { BackupJob, BackupJobReply } from './service.ts';
import { writeArchive } from './write-archive.ts';

const port = parentPort;
if (port === null) throw new Error('backup-worker.ts runs only as a worker thread');
const job = workerData as BackupJob;

async function run(): Promise<BackupJobReply> {
  const started = performance.now();
  try {
    const manifest = collect(job.sources, job.workDir, new Date(job.createdAtMs));
    const snapshotMs = performance.now() - started;
    const bytes = await writeArchive(manifest, job.workDir, job.output, job.key);
    return { ok: true, manifest, bytes, snapshotMs, ms: performance.now() - started };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return {
      ok: false,
      message: err instanceof Error ? err.message : String(err),
      ...(typeof code === 'string' && code.startsWith('backup.') ? { code } : {}),
    };
  } finally {
    fs.rmSync(job.workDir, { recursive: true, force: true });
  }
}

port.postMessage(await run());
