/**
 * Consistent images of the primary's database, taken on a thread of their own (snapshot-worker.ts) so the
 * serving thread never copies or hashes the database.
 */
import { startModuleWorker } from '../core/index.ts';

export interface SnapshotData {
  readonly file: string;
  readonly busyTimeoutMs: number;
}

export interface DatabaseImage {
  readonly kind: 'image';
  /** When the read transaction the image comes from began (the primary's clock). */
  readonly takenAtMs: number;
  readonly pageSize: number;
  readonly pageCount: number;
  /** SHA-256 (hex) of the whole image: what the standby's copy must hash to once a batch is applied. */
  readonly sha256: string;
  readonly image: Buffer;
  /** 16 bytes per page: the first half of each page's SHA-256. */
  readonly hashes: Buffer;
}

export type SnapshotReply = DatabaseImage | { kind: 'unchanged' } | { kind: 'failed'; message: string };

export interface Snapshotter {
  /** A new image, or 'unchanged' when nothing committed since the last (unless `force`). */
  take(force: boolean): Promise<DatabaseImage | 'unchanged'>;
  stop(): Promise<void>;
}

export function startSnapshotter(data: SnapshotData): Snapshotter {
  const worker = startModuleWorker(new URL('./snapshot-worker.ts', import.meta.url), { workerData: data });
  worker.unref();
  let failure: Error | undefined;
  const pending: ((reply: SnapshotReply) => void)[] = [];
  worker.on('message', (reply: SnapshotReply) => {
    // Buffers arrive as Uint8Arrays: give them Buffer's methods back without copying.
    const fixed: SnapshotReply =
      reply.kind === 'image'
        ? {
            ...reply,
            image: Buffer.from(reply.image.buffer, reply.image.byteOffset, reply.image.byteLength),
            hashes: Buffer.from(reply.hashes.buffer, reply.hashes.byteOffset, reply.hashes.byteLength),
          }
        : reply;
    pending.shift()?.(fixed);
  });
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      failure ??= new Error('the snapshot thread ended');
      for (const resolvePending of pending.splice(0))
        resolvePending({ kind: 'failed', message: failure.message });
      resolve();
    }),
  );
  worker.on('error', (err: Error) => (failure = err));
  return {
    take: async (force) => {
      if (failure !== undefined) throw failure;
      worker.ref();
      const reply = await new Promise<SnapshotReply>((resolve) => {
        pending.push(resolve);
        worker.postMessage({ force });
      });
      worker.unref();
      if (reply.kind === 'failed') throw new Error(`database snapshot failed: ${reply.message}`);
      return reply.kind === 'unchanged' ? 'unchanged' : reply;
    },
    stop: () => {
      worker.ref();
      worker.postMessage('stop');
      return exited;
    },
  };
}
